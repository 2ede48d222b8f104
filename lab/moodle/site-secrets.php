<?php
// Moodle HA Lab: a site restored from the site cache takes this lab's own secrets and name.
// Run as www-data after the restore (and after muc-redis.php):
//   php /usr/local/share/moodle-lab/site-secrets.php
// with MOODLE_LAB_ADMIN_PASSWORD and MOODLE_LAB_SITE_NAME in the exec's environment (never on
// the command line: argv is readable by every user of the host). The generated users' password
// is the lab's MOODLE_USERS_PASSWORD (/etc/moodle-lab/env.php, as config.php reads it).
define('CLI_SCRIPT', true);
require '/var/www/moodle/config.php';

$lab = require '/etc/moodle-lab/env.php';
$admin = getenv('MOODLE_LAB_ADMIN_PASSWORD');
$sitename = getenv('MOODLE_LAB_SITE_NAME');
$users = $lab['MOODLE_USERS_PASSWORD'] ?? '';
if ($admin === false || $admin === '' || $users === '') {
    fwrite(STDERR, "MOODLE_LAB_ADMIN_PASSWORD (exec environment) and MOODLE_USERS_PASSWORD (env.php) must be set\n");
    exit(2);
}

// The admin: Moodle's own hashing (what admin/cli/reset_password.php does).
$record = $DB->get_record('user', ['username' => 'admin', 'mnethostid' => $CFG->mnet_localhost_id], '*', MUST_EXIST);
if (!update_internal_user_password($record, $admin)) {
    fwrite(STDERR, "could not set the admin password\n");
    exit(1);
}

// The generated users (tool_generator_000001…): one hash for all of them, as the generator's
// fast hash (they are test accounts; `status --json` lists them with the password).
$like = $DB->sql_like('username', ':prefix', false, false);
$count = $DB->count_records_select('user', $like, ['prefix' => $DB->sql_like_escape('tool_generator_') . '%']);
$DB->set_field_select('user', 'password', hash_internal_user_password($users, true), $like, ['prefix' => $DB->sql_like_escape('tool_generator_') . '%']);

if ($sitename !== false && $sitename !== '') {
    $DB->set_field('course', 'fullname', $sitename, ['id' => SITEID]);
}
// Sessions of the lab the snapshot came from mean nothing here.
$DB->delete_records('sessions');
purge_all_caches();
echo "site secrets applied: admin password, {$count} generated users' password" . ($sitename ? ", site name \"{$sitename}\"" : '') . "; caches purged\n";
