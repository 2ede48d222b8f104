<?php
// Moodle HA Lab — shared helpers of the /lab/probe endpoints (not served: Apache denies "_*").
declare(strict_types=1);

const LAB_ENV_FILE = '/etc/moodle-lab/env.php';
const LAB_NAME_RE = '/^[A-Za-z0-9_-]{1,64}$/';

/** The environment the entrypoint wrote (Apache does not pass the container's env). */
function lab_env(): array
{
    static $env = null;
    if ($env === null) {
        $loaded = is_readable(LAB_ENV_FILE) ? require LAB_ENV_FILE : [];
        $env = is_array($loaded) ? $loaded : [];
    }
    return $env;
}

function lab_get_env(string $name, string $default = ''): string
{
    $v = lab_env()[$name] ?? '';
    return $v === '' ? $default : (string) $v;
}

function lab_node(): string
{
    return lab_get_env('LAB_NODE', (string) gethostname());
}

function lab_json(int $status, array $data): never
{
    http_response_code($status);
    header('Content-Type: application/json');
    header('Cache-Control: no-store');
    echo json_encode($data, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    exit;
}

function lab_ok(array $data = []): never
{
    lab_json(200, ['ok' => true, 'node' => lab_node()] + $data);
}

/** 500 for a failed operation; 400 for invalid input, 404 for an unknown id/name. */
function lab_fail(string $error, int $status = 500): never
{
    lab_json($status, ['ok' => false, 'node' => lab_node(), 'error' => $error]);
}

/** A name: [A-Za-z0-9_-]{1,64}. */
function lab_param_name(string $param): string
{
    $v = $_GET[$param] ?? '';
    if (!is_string($v) || !preg_match(LAB_NAME_RE, $v)) {
        lab_fail("invalid $param: expected [A-Za-z0-9_-]{1,64}", 400);
    }
    return $v;
}

/** A value: 1..255 bytes of UTF-8 without control characters. */
function lab_param_value(string $param): string
{
    $v = $_GET[$param] ?? '';
    if (!is_string($v) || $v === '' || strlen($v) > 255 || !preg_match('/^[^\p{Cc}]+$/u', $v)) {
        lab_fail("invalid $param: expected 1-255 bytes of UTF-8 text without control characters", 400);
    }
    return $v;
}

// Every PHP warning (Redis, Gluster I/O, ...) becomes an exception, and every uncaught
// exception a JSON 500: a probe never answers with a half-written page.
set_error_handler(static function (int $no, string $msg, string $file = '', int $line = 0): bool {
    if (!(error_reporting() & $no)) {
        return false;
    }
    throw new ErrorException($msg, 0, $no, $file, $line);
});
set_exception_handler(static function (Throwable $e): void {
    lab_fail($e->getMessage());
});
