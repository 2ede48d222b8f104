<?php
// Moodle HA Lab: one request's server-side split, for bench/page-breakdown.ts only.
// config.php requires this file only while /etc/moodle-lab/bench-perf exists (the bench creates
// it on each web node and removes it at the end): normal runs pay one stat of a local file.
// The split goes to Apache's access log as the note `labperf` (%{labperf}n, moodle-lab.conf),
// next to the request's own %D: one line per request, no correlation between logs needed.
//
// Fields (k=v, space separated): t = PHP wall ms (from Apache's request start), db = DB ms,
// q = queries, sess = session start ms (Redis connect + lock + read: Moodle's sessionlock wait),
// inc = included PHP files, och/ocm = opcache hits/misses during this request (the bench sends
// one request at a time, so the node-wide counters' delta is this request's), ch/cm = MUC cache
// hits/misses, rops = MUC operations that went to a Redis store; and the node's opcache and
// realpath cache as they stand after the request: ocn = cached scripts, ocmem/ocfree = MB used /
// free, ocfull = 1 when full, ocstr = interned strings MB used of ocstrmax, rp = realpath cache KB.
// MUC counts hits/misses only with perfdebug > 7 (which also puts Moodle's perf info in the page
// footer: a few ms the bench's pages pay, normal runs never).
$CFG->perfdebug = 15;
defined('MDL_PERF') || define('MDL_PERF', true);
defined('MDL_PERFTOFOOT') || define('MDL_PERFTOFOOT', false);
defined('MDL_PERFTOLOG') || define('MDL_PERFTOLOG', false);

$labperfopcache = static function (): array {
    $s = function_exists('opcache_get_status') ? @opcache_get_status(false) : false;
    $st = is_array($s) ? ($s['opcache_statistics'] ?? []) : [];
    return [(int) ($st['hits'] ?? 0), (int) ($st['misses'] ?? 0), is_array($s) ? $s : []];
};
$labperfopstart = $labperfopcache();

register_shutdown_function(static function () use ($labperfopcache, $labperfopstart): void {
    // Registered again from here so that it runs after Moodle's own shutdown work.
    register_shutdown_function(static function () use ($labperfopcache, $labperfopstart): void {
        global $DB, $PERF;
        $ms = static fn(float $s): string => number_format($s * 1000, 1, '.', '');
        $f = ['t' => $ms(microtime(true) - (float) $_SERVER['REQUEST_TIME_FLOAT'])];
        if (isset($DB) && is_object($DB) && method_exists($DB, 'perf_get_queries')) {
            $f['db'] = $ms((float) $DB->perf_get_queries_time());
            $f['q'] = (string) $DB->perf_get_queries();
        }
        $f['sess'] = $ms((float) ($PERF->sessionlock['wait'] ?? 0));
        $f['inc'] = (string) count(get_included_files());
        [$h, $m, $s] = $labperfopcache();
        $f['och'] = (string) max(0, $h - $labperfopstart[0]);
        $f['ocm'] = (string) max(0, $m - $labperfopstart[1]);
        $mb = static fn($b): string => number_format((float) $b / 1048576, 1, '.', '');
        $f['ocn'] = (string) (int) ($s['opcache_statistics']['num_cached_scripts'] ?? 0);
        $f['ocmem'] = $mb($s['memory_usage']['used_memory'] ?? 0);
        $f['ocfree'] = $mb($s['memory_usage']['free_memory'] ?? 0);
        $f['ocfull'] = empty($s['cache_full']) ? '0' : '1';
        $f['ocstr'] = $mb($s['interned_strings_usage']['used_memory'] ?? 0);
        $f['ocstrmax'] = $mb($s['interned_strings_usage']['buffer_size'] ?? 0);
        $f['rp'] = (string) (int) (realpath_cache_size() / 1024);
        $ch = $cm = $rops = 0;
        $helper = class_exists('\\core_cache\\helper', false) ? '\\core_cache\\helper' : 'cache_helper';
        if (class_exists($helper, false)) {
            foreach ((array) $helper::get_stats() as $details) {
                foreach ($details['stores'] ?? [] as $data) {
                    $ch += (int) $data['hits'];
                    $cm += (int) $data['misses'];
                    if (stripos((string) ($data['class'] ?? ''), 'redis') !== false) {
                        $rops += (int) $data['hits'] + (int) $data['misses'] + (int) $data['sets'];
                    }
                }
            }
        }
        $f['ch'] = (string) $ch;
        $f['cm'] = (string) $cm;
        $f['rops'] = (string) $rops;
        $out = [];
        foreach ($f as $k => $v) {
            $out[] = "$k=$v";
        }
        if (function_exists('apache_note')) {
            apache_note('labperf', implode(' ', $out));
        }
    });
});
