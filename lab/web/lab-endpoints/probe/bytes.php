<?php
// Moodle HA Lab — a download of ?n= bytes (default 1 MiB, at most 64 MiB) straight from this node,
// to see a bandwidth limit or packet loss on it (`fault rate`, `fault loss`).
$n = isset($_GET['n']) ? (int)$_GET['n'] : 1048576;
if ($n < 0 || $n > 64 * 1048576) {
    http_response_code(400);
    header('Content-Type: application/json');
    echo json_encode(['ok' => false, 'error' => 'n must be 0 to 67108864 bytes']);
    exit;
}
header('Content-Type: application/octet-stream');
header('Cache-Control: no-store');
header('Content-Length: ' . $n);
$chunk = str_repeat("\0", 65536);
for ($left = $n; $left > 0; $left -= 65536) {
    echo $left >= 65536 ? $chunk : substr($chunk, 0, $left);
}
