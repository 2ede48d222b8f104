<?php
// Moodle HA Lab: the cluster's config.php, identical on every web node and baked into the image.
// Per-lab values (wwwroot, database, Redis, secrets) come from /etc/moodle-lab/env.php, which the
// web node's entrypoint writes from the container's environment at start.
unset($CFG);
global $CFG;
$CFG = new stdClass();

$lab = require '/etc/moodle-lab/env.php';

$CFG->dbtype    = 'mariadb';
$CFG->dblibrary = 'native';
// Writes through HAProxy's single-writer listener (one Galera node active, the others backup).
$CFG->dbhost    = $lab['DB_HOST'];
$CFG->dbname    = $lab['DB_NAME'];
$CFG->dbuser    = $lab['DB_USER'];
$CFG->dbpass    = $lab['DB_PASSWORD'];
$CFG->prefix    = 'mdl_';
$CFG->dboptions = [
    'dbpersist'   => 0,
    'dbport'      => (int) $lab['DB_PORT'],
    'dbcollation' => 'utf8mb4_unicode_ci',
];
// Reads through the reader listener (leastconn over every Synced node), when it is a separate one.
if ($lab['DB_READ_PORT'] !== '' && $lab['DB_READ_PORT'] !== $lab['DB_PORT']) {
    $CFG->dboptions['readonly'] = [
        'instance'       => [['dbhost' => $lab['DB_HOST'], 'dbport' => (int) $lab['DB_READ_PORT']]],
        'connecttimeout' => 2,
        'latency'        => 1,
    ];
}

// The URL users type, exactly (Moodle redirects any other host or port to it).
$CFG->wwwroot   = $lab['MOODLE_WWWROOT'];
// Shared: the Gluster volume. Local per node: the local cache.
$CFG->dataroot      = $lab['MOODLEDATA'];
$CFG->localcachedir = '/var/cache/moodle-local';
$CFG->admin     = 'admin';
$CFG->directorypermissions = 02770;

// Sessions in Redis, so any node can serve any user. A node killed while a request of a user
// holds that user's session lock leaves the lock behind until it expires: every later request of
// that user (including HAProxy's retry of the one that died) waits for it. Moodle's default
// expiry is hours; 10 s here, far longer than any page of the lab takes.
if ($lab['REDIS_HOST'] !== '') {
    $CFG->session_handler_class = '\core\session\redis';
    $CFG->session_redis_host = $lab['REDIS_HOST'];
    $CFG->session_redis_port = 6379;
    $CFG->session_redis_auth = $lab['REDIS_PASSWORD'];
    $CFG->session_redis_prefix = 'mdl_sess_';
    $CFG->session_redis_acquire_lock_timeout = 60;
    $CFG->session_redis_lock_expire = 10;
}

// Generated test users (tool_generator) get this password; the lab lists them in `status --json`.
$CFG->tool_generator_users_password = $lab['MOODLE_USERS_PASSWORD'];
// A lab never sends mail.
$CFG->noemailever = true;

// bench/page-breakdown.ts only: each request's server-side split in the access log while the
// bench's switch file exists on this node (lab/moodle/bench-perf.php). Otherwise one stat.
if (is_file('/etc/moodle-lab/bench-perf')) {
    require '/usr/local/share/moodle-lab/bench-perf.php';
}

require_once(__DIR__ . '/lib/setup.php'); // Do not edit
