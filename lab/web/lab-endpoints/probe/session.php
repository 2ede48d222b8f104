<?php
// Moodle HA Lab — session probe: a real PHP session stored in Redis (phpredis handler),
// cookie LABSESSID. ?set=VALUE stores VALUE; without parameters reads it back. Setting through
// web1 and reading through web3 with the same cookie proves the sessions are shared.
declare(strict_types=1);
require __DIR__ . '/../_lib.php';

$set = isset($_GET['set']) ? lab_param_value('set') : null;
if ($set === null && !isset($_COOKIE['LABSESSID'])) {
    // Nothing to read: do not create an empty session in Redis for every cookie-less probe.
    lab_ok(['action' => 'get', 'sessionId' => null, 'value' => null, 'setBy' => null, 'setAt' => null]);
}

// Without Redis (the `single` topology) sessions stay in local files: one node, nothing to share.
if (lab_get_env('REDIS_HOST') !== '') {
    $query = ['timeout' => '2', 'read_timeout' => '2', 'prefix' => 'LABSESS_'];
    if (lab_get_env('REDIS_PASSWORD') !== '') {
        $query['auth'] = lab_get_env('REDIS_PASSWORD');
    }
    ini_set('session.save_handler', 'redis');
    ini_set('session.save_path', 'tcp://' . lab_get_env('REDIS_HOST') . ':6379?' . http_build_query($query));
}
ini_set('session.use_strict_mode', '1');
ini_set('session.use_only_cookies', '1');
ini_set('session.cookie_httponly', '1');
ini_set('session.cookie_samesite', 'Lax');
ini_set('session.cookie_path', '/');
ini_set('session.cache_limiter', '');
session_name('LABSESSID');

try {
    if (!session_start()) {
        lab_fail('session_start failed');
    }
} catch (Throwable $e) {
    lab_fail('session store (redis): ' . $e->getMessage());
}

if ($set !== null) {
    $_SESSION['value'] = $set;
    $_SESSION['setBy'] = lab_node();
    $_SESSION['setAt'] = gmdate('Y-m-d\TH:i:s\Z');
}
$data = [
    'action' => $set !== null ? 'set' : 'get',
    'sessionId' => session_id(),
    'value' => $_SESSION['value'] ?? null,
    'setBy' => $_SESSION['setBy'] ?? null,
    'setAt' => $_SESSION['setAt'] ?? null,
];
try {
    if (!session_write_close()) {
        lab_fail('session write failed');
    }
} catch (Throwable $e) {
    lab_fail('session store (redis): ' . $e->getMessage());
}
lab_ok($data);
