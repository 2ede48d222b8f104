/** The activity-bar tree: tiers → nodes, mapped from tree-model's plain data. */
import * as vscode from 'vscode';
import type { LabSnapshot } from '../protocol/snapshot';
import { NodeItemModel, TierItemModel, treeModel } from './tree-model';

export type LabTreeElement = TierItemModel | NodeItemModel;

export class LabTreeProvider implements vscode.TreeDataProvider<LabTreeElement>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LabTreeElement | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private tiers: TierItemModel[] = [];
  private key = '';

  update(s: LabSnapshot | undefined): void {
    const tiers = treeModel(s);
    const key = JSON.stringify(tiers);
    if (key === this.key) return;
    this.key = key;
    this.tiers = tiers;
    this.changed.fire(undefined);
  }

  getChildren(element?: LabTreeElement): LabTreeElement[] {
    if (!element) return this.tiers;
    return element.kind === 'tier' ? element.children : [];
  }

  getParent(element: LabTreeElement): LabTreeElement | undefined {
    return element.kind === 'node' ? this.tiers.find((t) => t.children.some((c) => c.node === element.node)) : undefined;
  }

  getTreeItem(e: LabTreeElement): vscode.TreeItem {
    const icon = new vscode.ThemeIcon(e.icon.id, e.icon.color ? new vscode.ThemeColor(e.icon.color) : undefined);
    if (e.kind === 'tier') {
      const item = new vscode.TreeItem(e.label, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `tier:${e.id}`;
      item.description = e.description;
      item.iconPath = icon;
      item.contextValue = 'tier';
      return item;
    }
    const item = new vscode.TreeItem(e.label, vscode.TreeItemCollapsibleState.None);
    item.id = `node:${e.node}`;
    item.description = e.description;
    item.tooltip = new vscode.MarkdownString(
      e.tooltip
        .split('\n')
        .map((l) => l.replace(/[\\`*_[\]<>]/g, '\\$&'))
        .join('  \n'),
    );
    item.iconPath = icon;
    item.contextValue = e.contextValue;
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}
