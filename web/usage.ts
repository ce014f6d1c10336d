/**
 * The usage bar: what the user's folder holds against its quota ("3.2 GB of 10 GB", or "3.2 GB
 * used" without one), as the TVM reported it with the latest credentials (`storage.usage`). It
 * follows every vend (the client's credentials events), so it moves after uploads and deletes
 * within a credential refresh, and at once when an upload is refused for quota.
 */
import type { StorageUsage } from '@serverless-tvm/client';
import { element } from './dom';
import { usageText } from './format';
import { tvm } from './session';

const view = {
  block: element<HTMLDivElement>('usage'),
  bar: element<HTMLProgressElement>('usage-bar'),
  text: element<HTMLSpanElement>('usage-text'),
};

/** Draws `usage`, or hides the bar when the TVM sent none. */
export function renderUsage(usage: StorageUsage | undefined = tvm.usage()): void {
  if (!usage) {
    view.block.hidden = true;
    return;
  }
  view.block.hidden = false;
  view.text.textContent = usage.overQuota ? `${usageText(usage)}: storage full` : usageText(usage);
  view.block.classList.toggle('over', usage.overQuota);
  view.block.dataset['overQuota'] = String(usage.overQuota);
  view.bar.hidden = usage.quotaBytes === null;
  if (usage.quotaBytes !== null) {
    view.bar.max = Math.max(1, usage.quotaBytes);
    view.bar.value = Math.min(usage.bytes, view.bar.max);
  }
  view.block.title = usage.overQuota
    ? 'Uploads are refused until you delete files below your quota.'
    : `${usage.objects} file(s) stored.`;
}

/** Follows the client's vends; call once. */
export function wireUsage(): void {
  tvm.onCredentials((event) => renderUsage(event.usage));
  tvm.onSessionChange((event) => {
    if (event.type === 'signedOut') renderUsage(undefined);
  });
}
