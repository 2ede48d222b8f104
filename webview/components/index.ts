/**
 * Our thin wrappers around @vscode/webview-ui-toolkit: the rest of the webview builds controls
 * only through these functions, so swapping the toolkit (it is archived upstream;
 * @vscode-elements/elements is the maintained alternative) touches this folder only.
 */
import { provideVSCodeDesignSystem, vsCodeButton, vsCodeCheckbox, vsCodeTag, vsCodeTextField } from '@vscode/webview-ui-toolkit';

let registered = false;

export function registerComponents(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(vsCodeButton(), vsCodeCheckbox(), vsCodeTag(), vsCodeTextField());
}

export interface ButtonOptions {
  appearance?: 'primary' | 'secondary' | 'icon';
  title?: string;
  /** data-action attribute, for tests and delegation. */
  action?: string;
}

export function button(label: string, onClick: () => void, o: ButtonOptions = {}): HTMLElement {
  const b = document.createElement('vscode-button');
  b.textContent = label;
  b.setAttribute('appearance', o.appearance ?? 'secondary');
  if (o.title) b.title = o.title;
  if (o.action) b.dataset.action = o.action;
  b.addEventListener('click', onClick);
  return b;
}

export function setDisabled(el: HTMLElement, disabled: boolean): void {
  if (disabled) el.setAttribute('disabled', '');
  else el.removeAttribute('disabled');
}

export function textField(label: string, value: string, o: { size?: number; name?: string } = {}): HTMLElement & { value: string } {
  const t = document.createElement('vscode-text-field') as HTMLElement & { value: string };
  t.textContent = label;
  t.setAttribute('value', value);
  t.setAttribute('size', String(o.size ?? 6));
  if (o.name) t.dataset.name = o.name;
  return t;
}

export function checkbox(label: string, checked: boolean, onChange: (checked: boolean) => void): HTMLElement {
  const c = document.createElement('vscode-checkbox') as HTMLElement & { checked: boolean };
  c.textContent = label;
  if (checked) c.setAttribute('checked', '');
  c.addEventListener('change', () => onChange(Boolean(c.checked)));
  return c;
}

export function tag(text: string, cls?: string): HTMLElement {
  const t = document.createElement('vscode-tag');
  t.textContent = text;
  if (cls) t.className = cls;
  return t;
}
