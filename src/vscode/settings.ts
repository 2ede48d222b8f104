/** The extension's settings (package.json `contributes.configuration`). */
import * as vscode from 'vscode';
import type { PresetName } from '../engine/topology';

export interface LabSettings {
  labName: string;
  moodleSource: string;
  preset: PresetName;
  /** A lab file to start instead of the preset ('' = none). */
  labFile: string;
  webCount: number;
  baseImage: string;
  port: number;
}

export function readSettings(): LabSettings {
  const c = vscode.workspace.getConfiguration('moodleLab');
  return {
    labName: c.get<string>('labName', 'moodle-lab'),
    moodleSource: c.get<string>('moodleSource', ''),
    preset: c.get<PresetName>('preset', 'ha'),
    labFile: c.get<string>('labFile', ''),
    webCount: c.get<number>('webCount', 3),
    baseImage: c.get<string>('baseImage', ''),
    port: c.get<number>('port', 0),
  };
}
