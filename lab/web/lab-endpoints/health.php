<?php
// Moodle HA Lab — light health check (what HAProxy checks): PHP answers "ok <node>".
$env = @include '/etc/moodle-lab/env.php';
$node = (is_array($env) && ($env['LAB_NODE'] ?? '') !== '') ? $env['LAB_NODE'] : gethostname();
header('Content-Type: text/plain; charset=utf-8');
header('Cache-Control: no-store');
echo 'ok ', $node, "\n";
