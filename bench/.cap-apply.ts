import { buildTopology } from '../src/engine/topology';
import { HAPROXY_CONFIG_PATH, renderHaproxyConfig } from '../src/roles/haproxy';
import { LABEL_NODE, labLabels } from '../src/docker/labels';
import { openLab } from './support';
import * as fs from 'node:fs';
async function main() {
  const lab = process.argv[2]!;
  const { controller, docker } = openLab(lab);
  const state = controller.engine.state()!;
  const cs = await docker.containers.list(labLabels(lab));
  const lb = cs.find((c) => c.labels[LABEL_NODE] === 'haproxy')!;
  await docker.containers.putFile(lb.id, HAPROXY_CONFIG_PATH, renderHaproxyConfig(buildTopology(state.definition), 'tuned'));
  await docker.containers.kill(lb.id, 'SIGUSR2');
  const cc = fs.readFileSync(`${__dirname}/../lab/galera/clustercheck`);
  for (const c of cs.filter((c) => /^galera/.test(c.labels[LABEL_NODE] ?? ''))) await docker.containers.putFile(c.id, '/usr/local/bin/clustercheck', cc, 0o755);
  console.log('applied');
}
main();
