/** The report's inline style sheet (light and dark, print). */
export const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--card:#f6f8fa;--p50:#0969da;--p95:#8250df;--max:#8c959f;--fail:#cf222e;--ok:#1a7f37;--warn:#9a6700;--ext:#1b7c83;--okbg:#dafbe1;--failbg:#ffebe9;--say:#ddf4ff;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--card:#161b22;--p50:#4493f8;--p95:#b78cf9;--max:#6e7681;--fail:#ff6a5f;--ok:#3fb950;--warn:#d29922;--ext:#39c5cf;--okbg:#12361e;--failbg:#4a1519;--say:#0c2d4a}}
*{box-sizing:border-box}
html{font-size:20px}
body{margin:0;background:var(--bg);color:var(--fg);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;font-variant-numeric:tabular-nums}
main{max-width:1280px;margin:0 auto;padding:1.5rem 2rem 3rem}
h1{font-size:2.2rem;margin:.2rem 0}h2{font-size:1.5rem;margin:2.2rem 0 .8rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}h3{font-size:1.15rem;margin:1.2rem 0 .4rem}
.muted{color:var(--muted)}.ok{color:var(--ok);font-weight:600}.err{color:var(--fail);font-weight:600}code{font-size:.85em}
.meta{display:flex;flex-wrap:wrap;gap:.4rem 2rem;color:var(--muted);margin:.4rem 0 1rem}.meta b{color:var(--fg)}
.description{font-size:1.1rem;max-width:60em}
.verdict{display:flex;align-items:center;gap:1rem;padding:1rem 1.5rem;border-radius:12px;border:3px solid;font-size:2.4rem;font-weight:800;letter-spacing:.04em;margin:1rem 0}
.verdict small{font-size:1rem;font-weight:500;letter-spacing:0}
.verdict.passed{color:var(--ok);border-color:var(--ok);background:var(--okbg)}.verdict.failed{color:var(--fail);border-color:var(--fail);background:var(--failbg)}
.tiles{display:grid;grid-template-columns:repeat(5,1fr);gap:.8rem}@media (max-width:900px){.tiles{grid-template-columns:repeat(2,1fr)}}.tiles+.tiles{margin-top:.8rem}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.7rem 1rem}.tile.bad{border-color:var(--fail)}
.tile-value{font-size:1.8rem;font-weight:700;white-space:nowrap}.tile-value small{font-size:.55em;font-weight:600;color:var(--muted);margin-left:.15em}.tile.bad .tile-value{color:var(--fail)}.tile-label{color:var(--muted);font-size:.9rem}
svg{display:block;width:100%;height:auto;font-family:inherit}
.topology .edge{stroke:var(--muted);stroke-width:1.5;opacity:.6}.topology .tier-box{fill:var(--card);stroke:var(--line);stroke-width:1.5}
.topology .tier-title{fill:var(--muted);font-size:15px}.topology .node rect{fill:var(--bg);stroke:var(--fg);stroke-width:2}
.topology .node-name{fill:var(--fg);font-size:19px;font-weight:600;text-anchor:middle}
.topology .faulted rect{stroke:var(--fail);stroke-width:4;stroke-dasharray:8 4;fill:var(--failbg)}.topology .node-fault{fill:var(--fail);font-size:14px;font-weight:700;text-anchor:middle}.topology .node-part{fill:var(--fg);font-size:14px;text-anchor:middle}
.chart{margin:0 0 1.5rem}.chart svg{background:var(--card);border:1px solid var(--line);border-radius:10px}
.latency-chart .grid{stroke:var(--line);stroke-width:1}.latency-chart .axis,.latency-chart .xtick{stroke:var(--muted);stroke-width:1.5}
.latency-chart .tick{fill:var(--muted);font-size:16px}.latency-chart .tick-fail,.latency-chart .axis-fail{fill:var(--fail)}.latency-chart .axis-title{fill:var(--fg);font-size:16px}
path.series{fill:none;stroke-width:3;stroke-linejoin:round}.s-p50{stroke:var(--p50)}.s-p95{stroke:var(--p95)}path.s-max{stroke:var(--max);stroke-width:1.5;opacity:.8}circle.s-p50{fill:var(--p50)}circle.s-p95{fill:var(--p95)}circle.s-max{fill:var(--max)}
.fail-bars rect{fill:var(--fail);opacity:.75}
.marker line{stroke-width:2;stroke-dasharray:6 5}.marker text{font-size:15px;font-weight:600}
.marker-legend{margin:.4rem 0 0;padding-left:1.6rem;font-size:.9rem;columns:2 22rem}.marker-legend .at{font-variant-numeric:tabular-nums;color:var(--muted)}
.m-fault line{stroke:var(--fail)}.m-fault text{fill:var(--fail)}.m-external line{stroke:var(--ext);stroke-dasharray:2 4;stroke-width:3}.m-external text{fill:var(--ext);font-style:italic}.sw.m-external{color:var(--ext);border-top-style:dotted}.marker-legend li.m-external::marker{color:var(--ext)}.timeline .ext{color:var(--ext);font-style:italic}.m-heal line{stroke:var(--ok)}.m-heal text{fill:var(--ok)}.m-maintenance line{stroke:var(--warn)}.m-maintenance text{fill:var(--warn)}
.legend{display:flex;flex-wrap:wrap;gap:.3rem 1.4rem;list-style:none;padding:0;margin:.5rem 0 0;font-size:.9rem}
.sw{display:inline-block;width:1.6rem;height:.3rem;margin-right:.4rem;vertical-align:middle;background:currentColor}
.sw.s-p50{background:var(--p50)}.sw.s-p95{background:var(--p95)}.sw.s-max{background:var(--max);height:.15rem}.sw.fail{background:var(--fail);height:.8rem;width:.8rem}
.sw.m-fault,.sw.m-heal,.sw.m-maintenance{background:none;border-top:3px dashed;height:0}.sw.m-fault{color:var(--fail)}.sw.m-heal{color:var(--ok)}.sw.m-maintenance{color:var(--warn)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.95rem}
th,td{padding:.4rem .7rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}th{background:var(--card);font-weight:700}
.num{text-align:right;white-space:nowrap}th.num{white-space:normal}table.failover{font-size:.9rem}table.failover td:last-child{min-width:12em}.steps .ok,.steps .err{white-space:nowrap}table.failover td:first-child{white-space:nowrap}
.paper{font-style:italic;color:var(--warn)}
tr.failed td{background:var(--failbg)}tr.grade-wrong td{background:var(--failbg)}tr.grade-right td{background:var(--okbg)}.predict-score{font-size:1.2rem}
.timeline{list-style:none;padding:0;margin:0}
.timeline li{display:grid;grid-template-columns:5.5rem 7.5rem 1fr;gap:.8rem;padding:.35rem .8rem;border-bottom:1px solid var(--line)}
.timeline .t{color:var(--muted);font-variant-numeric:tabular-nums}.timeline .k{font-weight:600;color:var(--muted)}
.timeline li.say{font-size:1.25rem;background:var(--say);border-left:6px solid var(--p50);padding:.6rem .8rem .6rem calc(.8rem - 6px);border-radius:6px;margin:.4rem 0}.timeline li.say .t{font-size:1rem;padding-top:.2rem}
.timeline li.say .k{color:var(--p50)}.timeline li.k-fault .k{color:var(--fail)}.timeline li.k-heal .k{color:var(--ok)}.timeline li.k-maintenance .k{color:var(--warn)}
.timeline li.bad .x{color:var(--fail)}
.empty{color:var(--muted);font-style:italic;padding:1rem;border:1px dashed var(--line);border-radius:10px}
@media print{html{font-size:12pt}:root{--bg:#fff;--fg:#000;--card:#fff;--say:#f3f8ff}main{max-width:none;padding:0}section,figure,tr,li{break-inside:avoid}h2{break-after:avoid}.scroll{overflow:visible}}
`;
