/**
 * Hands a downloaded file to the browser's save dialog (EML downloads, archive exports): both the portal
 * and the task pane get files as Blobs from authenticated requests, which a plain link cannot make.
 */
export function saveFile(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
