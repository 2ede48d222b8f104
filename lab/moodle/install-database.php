<?php
// Moodle HA Lab: Moodle's admin/cli/install_database.php with the admin password taken from the
// environment (MOODLE_LAB_ADMIN_PASSWORD, set on the exec only), never from the command line:
// a process's argv is readable by every user of the host (`ps`), its environment is not.
// Every other option is passed through: `php install-database.php --agree-license ...`.
$password = getenv('MOODLE_LAB_ADMIN_PASSWORD');
if ($password === false || $password === '') {
    fwrite(STDERR, "MOODLE_LAB_ADMIN_PASSWORD is not set\n");
    exit(2);
}
putenv('MOODLE_LAB_ADMIN_PASSWORD');
unset($_ENV['MOODLE_LAB_ADMIN_PASSWORD'], $_SERVER['MOODLE_LAB_ADMIN_PASSWORD']);
foreach ($_SERVER['argv'] as $arg) {
    if (str_starts_with($arg, '--adminpass')) {
        fwrite(STDERR, "the admin password comes from MOODLE_LAB_ADMIN_PASSWORD, not from --adminpass\n");
        exit(2);
    }
}
// Moodle's cli_get_params() reads $_SERVER['argv']: the password joins the options in memory only.
$_SERVER['argv'][0] = '/var/www/moodle/admin/cli/install_database.php';
$_SERVER['argv'][] = '--adminpass=' . $password;
$argv = $_SERVER['argv'];
$argc = count($argv);
unset($password, $arg);
require '/var/www/moodle/admin/cli/install_database.php';
