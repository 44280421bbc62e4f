/**
 * Macro detection in Office files without an Office parser: OOXML documents are
 * zips whose macros live in `vbaProject.bin`; legacy OLE documents name their
 * macro storages `_VBA_PROJECT`, `VBA` and `Macros` in UTF-16 directory entries.
 */

const OLE_MARKERS = ["_VBA_PROJECT", "_VBA_PROJECT_CUR", "Macros"].map((name) =>
  Buffer.from(name, "utf16le"),
);
const EXCEL4_MARKER = Buffer.from("Excel 4.0 Macros", "latin1");

/** True when a legacy OLE document (doc/xls/ppt) contains a VBA project or Excel 4.0 macro sheet. */
export function oleHasMacros(content: Buffer): boolean {
  return OLE_MARKERS.some((marker) => content.includes(marker)) || content.includes(EXCEL4_MARKER);
}

/** True when an OOXML member list contains a VBA project (docm/xlsm/pptm, or a renamed docx). */
export function ooxmlHasMacros(memberPaths: readonly string[]): boolean {
  return memberPaths.some(
    (path) => /(^|\/)vbaProject\.bin$/i.test(path) || /(^|\/)vbaData\.xml$/i.test(path),
  );
}
