/**
 * What a step's parser reads with and checks against: the shared YAML reader, plus the state a
 * scenario builds up step by step — the topology in force (the scenario's, then each `up`'s),
 * the load runs started so far and the one running — and the checks on it (node names, roles).
 */
import { isScalar } from 'yaml';
import { buildTopology, PresetName, PRESET_NAMES, Topology, TopologyError } from '../../engine/topology';
import type { LabDefinition } from '../../engine/topology';
import type { Role } from '../../protocol/status';
import type { Scenario } from '../types';
import { clip, closest, quote, YamlNode, YamlReader } from '../yaml-reader';

export interface Env {
  topo: Topology;
  /** Line of the `up` that set this topology (undefined: the scenario's `topology`). */
  upLine?: number;
  /** `moodle: false` on the last `up` (line), so a Moodle journey can be refused. */
  noMoodleLine?: number;
}

export interface RunInfo {
  line: number;
  done: boolean;
}

export class StepParser extends YamlReader {
  env!: Env;
  /** The scenario's own `topology` (the first `up` uses it unless the step says otherwise). */
  topology: Scenario['topology'] = { preset: 'ha' };
  readonly runs = new Map<string, RunInfo>();
  running: string | null = null;
  loads = 0;
  /** `predict` ids so far, with their lines. */
  readonly questions = new Map<string, number>();
  /** Checks that need the whole scenario (a prediction bound to a run started later); run after the last step. */
  readonly deferred: (() => void)[] = [];

  /** Enters the topology of the scenario (before its first step). */
  protected enter(topology: Scenario['topology'], at: YamlNode | null): void {
    this.topology = topology;
    this.env = { topo: this.topologyOf(topology.preset, topology.web, at) };
  }

  /** The topology a preset (or the scenario's own lab file, by its name) gives; refused ones fail at `at`. */
  topologyOf(preset: string, web: number | undefined, at: YamlNode | null | undefined): Topology {
    const def: LabDefinition | PresetName = preset === this.topology.preset && this.topology.definition ? this.topology.definition : (preset as PresetName);
    try {
      return buildTopology(def, web);
    } catch (err) {
      if (err instanceof TopologyError) this.fail(at, err.message);
      throw err;
    }
  }

  describeTopo(): string {
    const where = this.env.upLine !== undefined ? `after the \`up\` on line ${this.env.upLine}` : "in this scenario's topology";
    return `${where} the lab (${this.env.topo.preset}) has ${quote(this.env.topo.nodes.map((n) => n.name))}`;
  }

  checkNode(name: string, at: YamlNode, roles?: Role[], what?: string): void {
    const node = this.env.topo.nodes.find((n) => n.name === name);
    if (!node) {
      let hint = closest(
        name,
        this.env.topo.nodes.map((n) => n.name),
      );
      // web9 → web1 is no help: only suggest for a misspelt role (gallera1 → galera1).
      if (hint && hint.replace(/\d+$/, '') === name.replace(/\d+$/, '')) hint = undefined;
      this.fail(at, `unknown node "${clip(name)}"${hint ? ` (did you mean "${hint}"?)` : ''}: ${this.describeTopo()}`);
    }
    if (roles && !roles.includes(node.role))
      this.fail(
        at,
        `${what ?? 'this'} needs ${roles.length === 1 && roles[0] === 'web' ? 'a web node' : `a node of role ${roles.join(' or ')}`}, and ${name} is ${node.role}`,
      );
  }

  hasRole(role: Role): boolean {
    return this.env.topo.nodes.some((n) => n.role === role);
  }

  preset(node: YamlNode | null): PresetName {
    const v = node && isScalar(node) ? node.value : undefined;
    if (typeof v !== 'string' || !(PRESET_NAMES as readonly string[]).includes(v))
      this.fail(node, `preset must be one of ${quote(PRESET_NAMES)}, not ${this.show(node)}`);
    return v as PresetName;
  }

  checkWeb(preset: string, web: number | undefined, at: YamlNode | undefined): void {
    if (preset === 'single' && web !== undefined && web !== 1) this.fail(at, 'the single preset has exactly one web node (use preset: ha for more)');
  }

  noLoadRunning(at: YamlNode, what: string): void {
    if (this.running !== null) {
      this.fail(
        at,
        `load run "${this.running}" (line ${this.runs.get(this.running)!.line}) is still running: add \`load: wait\` or \`load: stop\` before ${what}`,
      );
    }
  }
}
