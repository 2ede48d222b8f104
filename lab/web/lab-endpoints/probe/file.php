<?php
// Moodle HA Lab — shared-file probe on moodledata (Gluster):
//   ?write=NAME&value=V     writes MOODLEDATA/lab-probe/NAME (temp file + fsync + rename)
//   ?read=NAME              reads it back
declare(strict_types=1);
require __DIR__ . '/../_lib.php';

$dir = rtrim(lab_get_env('MOODLEDATA', '/var/moodledata'), '/') . '/lab-probe';

if (isset($_GET['write'])) {
    $name = lab_param_name('write');
    $value = lab_param_value('value');
    try {
        if (!is_dir($dir)) {
            try {
                mkdir($dir, 02770, true);
            } catch (ErrorException $e) {
                if (!is_dir($dir)) { // another node may have created it meanwhile
                    throw $e;
                }
            }
        }
        $path = "$dir/$name";
        $tmp = "$dir/.$name." . bin2hex(random_bytes(6)) . '.tmp';
        $fh = fopen($tmp, 'xb');
        try {
            if (fwrite($fh, $value) !== strlen($value) || !fflush($fh) || !fsync($fh)) {
                throw new RuntimeException('short write or fsync failed');
            }
        } finally {
            fclose($fh);
        }
        rename($tmp, $path);
    } catch (Throwable $e) {
        if (isset($tmp) && is_file($tmp)) {
            @unlink($tmp);
        }
        lab_fail('moodledata write: ' . $e->getMessage());
    }
    lab_ok(['action' => 'write', 'name' => $name, 'bytes' => strlen($value), 'path' => $path]);
}

if (isset($_GET['read'])) {
    $name = lab_param_name('read');
    $path = "$dir/$name";
    clearstatcache(true, $path);
    if (!is_file($path)) {
        lab_fail("no file named $name", 404);
    }
    try {
        $value = file_get_contents($path);
    } catch (Throwable $e) {
        lab_fail('moodledata read: ' . $e->getMessage());
    }
    lab_ok(['action' => 'read', 'name' => $name, 'value' => $value, 'path' => $path]);
}

lab_fail('expected ?write=NAME&value=V or ?read=NAME', 400);
