/**
 * The "Report as phishing?" dialog the reportPhish command opens (confirm.html). Posts
 * `{type:"confirm", note, block}` or `{type:"cancel"}` back to the command; see commands/confirm.ts.
 */
import { postToParent } from "./messageParent";

function element<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from confirm.html`);
  return found;
}

Office.onReady(() => {
  const confirm = element("confirm", HTMLButtonElement);
  const cancel = element("cancel", HTMLButtonElement);
  const note = element("note", HTMLTextAreaElement);
  const block = element("block", HTMLInputElement);
  confirm.addEventListener("click", () => {
    confirm.disabled = true;
    postToParent(JSON.stringify({ type: "confirm", note: note.value.slice(0, 2000), block: block.checked }));
  });
  cancel.addEventListener("click", () => postToParent(JSON.stringify({ type: "cancel" })));
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") postToParent(JSON.stringify({ type: "cancel" }));
  });
  cancel.focus();
});
