<?php
// Moodle HA Lab — database probe through HAProxy.
//   ?write=VALUE            INSERT into PROBE_DB_NAME.probes via DB_HOST:DB_PORT (the writer)
//   ?read=ID                SELECT the row via the writer
//   ?read=ID&via=reader     SELECT the row via DB_HOST:DB_READ_PORT (leastconn over all nodes)
// Reads use wsrep_sync_wait=1 (causal read: a row acknowledged by one node is visible on any).
declare(strict_types=1);
require __DIR__ . '/../_lib.php';

const PROBE_TABLE_SQL = 'CREATE TABLE IF NOT EXISTS probes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    value VARCHAR(255) NOT NULL,
    node VARCHAR(64) NOT NULL,
    created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci';
const ER_NO_SUCH_TABLE = 1146;

$write = isset($_GET['write']) ? lab_param_value('write') : null;
$read = null;
if ($write === null) {
    $raw = $_GET['read'] ?? null;
    if (!is_string($raw) || !preg_match('/^[1-9][0-9]{0,18}$/', $raw)) {
        lab_fail('expected ?write=VALUE or ?read=ID', 400);
    }
    $read = $raw;
}
$via = $_GET['via'] ?? 'writer';
if ($via !== 'writer' && $via !== 'reader') {
    lab_fail('invalid via: expected writer or reader', 400);
}
if ($write !== null) {
    $via = 'writer';
}
$port = (int) ($via === 'reader' ? lab_get_env('DB_READ_PORT', '3307') : lab_get_env('DB_PORT', '3306'));

mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
try {
    $db = mysqli_init();
    $db->options(MYSQLI_OPT_CONNECT_TIMEOUT, 3);
    $db->options(MYSQLI_OPT_READ_TIMEOUT, 5);
    $db->real_connect(lab_get_env('DB_HOST', 'haproxy'), lab_get_env('DB_USER'), lab_get_env('DB_PASSWORD'),
        lab_get_env('PROBE_DB_NAME'), $port);
    $db->set_charset('utf8mb4');
    $dbNode = (string) $db->query('SELECT @@hostname')->fetch_row()[0];

    if ($write !== null) {
        $node = lab_node();
        $insert = static function () use ($db, $write, $node): int {
            $st = $db->prepare('INSERT INTO probes (value, node) VALUES (?, ?)');
            $st->bind_param('ss', $write, $node);
            $st->execute();
            return (int) $db->insert_id;
        };
        try {
            $id = $insert();
        } catch (mysqli_sql_exception $e) {
            if ($e->getCode() !== ER_NO_SUCH_TABLE) {
                throw $e;
            }
            $db->query(PROBE_TABLE_SQL); // first probe of a new lab
            $id = $insert();
        }
        lab_ok(['action' => 'write', 'id' => $id, 'value' => $write, 'dbNode' => $dbNode, 'via' => $via]);
    }

    $db->query('SET SESSION wsrep_sync_wait = 1');
    $st = $db->prepare('SELECT id, value, node, created FROM probes WHERE id = ?');
    $st->bind_param('s', $read);
    $st->execute();
    $row = $st->get_result()->fetch_assoc();
    if ($row === null) {
        lab_fail("no row with id $read", 404);
    }
    $row['id'] = (int) $row['id'];
    lab_ok(['action' => 'read', 'row' => $row, 'dbNode' => $dbNode, 'via' => $via]);
} catch (mysqli_sql_exception $e) {
    if ($e->getCode() === ER_NO_SUCH_TABLE) {
        lab_fail("no row with id $read", 404);
    }
    lab_fail("database ($via, port $port): " . $e->getMessage());
}
