<?php
// Moodle HA Lab: put Moodle's application cache (MUC) in the lab's Redis, next to the sessions.
// Run once after the install, as www-data: `php /usr/local/share/moodle-lab/muc-redis.php`.
//
// Why: the default file store keeps the application cache in $CFG->cachedir on the shared
// Gluster volume, where three web nodes create and rename the same cache files at once. Under
// load that produced entry split-brain on the volume ("File store path does not exist and can
// not be created", HTTP 500) — measured in this lab. Moodle's own advice for clusters is a
// shared cache server; Redis is already here for the sessions. Idempotent (and points an existing
// store at this lab's Redis and password); does nothing without Redis (the `single` topology).
define('CLI_SCRIPT', true);
require '/var/www/moodle/config.php';

$lab = require '/etc/moodle-lab/env.php';
if (($lab['REDIS_HOST'] ?? '') === '') {
    echo "no Redis in this topology: the application cache stays on files\n";
    exit(0);
}

// Moodle 4.4+ names (\core_cache\…); older releases have the cache_* classes.
$ns = class_exists('\\core_cache\\config_writer');
$writer = $ns ? \core_cache\config_writer::instance() : cache_config_writer::instance();
$stores = ($ns ? \core_cache\config::instance() : cache_config::instance())->get_all_stores();
$mode = fn(string $m) => constant(($ns ? '\\core_cache\\store::' : 'cache_store::') . $m);
$store = [
    'server' => $lab['REDIS_HOST'] . ':6379',
    'prefix' => 'muc_',
    'password' => $lab['REDIS_PASSWORD'],
    'serializer' => 1,      // PHP's serializer (igbinary may be absent)
    'compressor' => 0,
    'connectiontimeout' => 3,
    'encryption' => false,
    'cafile' => '',
    'clustermode' => false,
];
if (!isset($stores['lab_redis'])) {
    $writer->add_store_instance('lab_redis', 'redis', $store);
} else {
    // A config made for another lab (e.g. a site restored from the site cache): this lab's Redis and password.
    $old = $stores['lab_redis']['configuration'] ?? [];
    if (($old['server'] ?? '') !== $store['server'] || ($old['password'] ?? '') !== $store['password']) {
        $writer->edit_store_instance('lab_redis', 'redis', $store);
    }
}
$writer->set_mode_mappings([
    $mode('MODE_APPLICATION') => ['lab_redis'],
    $mode('MODE_SESSION') => ['default_session'],
    $mode('MODE_REQUEST') => ['default_request'],
]);
$ns ? \core_cache\helper::purge_all() : cache_helper::purge_all();
echo "application cache: Redis at {$lab['REDIS_HOST']}:6379 (prefix muc_)\n";
