/**
 * Draws the Mailward add-in icons (a white shield with a check mark on the brand blue) as PNG files at
 * every size the manifest references, with no image library: shapes are rasterised with 4×4
 * supersampling and encoded with node:zlib. Run: `npx tsx scripts/manifest-icons.ts [outDir]`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { deflateSync } from "node:zlib";

/** The icon sizes (px) the manifest uses: button icons 16/32/80, IconUrl 64, HighResolutionIconUrl 128. */
export const ICON_SIZES = [16, 32, 64, 80, 128] as const;

const BRAND: readonly [number, number, number] = [15, 108, 189];
const WHITE: readonly [number, number, number] = [255, 255, 255];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = (CRC_TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}

/** Encodes straight RGBA pixels (row-major, 4 bytes each) as a PNG file. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type RGBA
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width * 4 + 1)] = 0; // filter: none
    Buffer.from(rgba.buffer, rgba.byteOffset + y * width * 4, width * 4).copy(rows, y * (width * 4 + 1) + 1);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(rows, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

function insideRoundedSquare(x: number, y: number): boolean {
  const radius = 0.2;
  const cx = Math.min(Math.max(x, radius), 1 - radius);
  const cy = Math.min(Math.max(y, radius), 1 - radius);
  return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2;
}

function insideShield(x: number, y: number): boolean {
  const halfWidth = 0.27;
  if (y < 0.16 || y > 0.86) return false;
  if (y <= 0.5) return Math.abs(x - 0.5) <= halfWidth - (y < 0.22 ? (0.22 - y) * 1.5 : 0);
  const t = (y - 0.5) / 0.36;
  return Math.abs(x - 0.5) <= halfWidth * Math.sqrt(Math.max(0, 1 - t * t));
}

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

function onCheckMark(x: number, y: number, stroke: number): boolean {
  return (
    distanceToSegment(x, y, 0.37, 0.5, 0.47, 0.61) <= stroke ||
    distanceToSegment(x, y, 0.47, 0.61, 0.65, 0.38) <= stroke
  );
}

/** Rasterises the icon at one size and returns its RGBA pixels. */
export function drawIcon(size: number): Uint8Array {
  const samples = 4;
  const stroke = Math.max(0.045, 1.2 / size);
  const pixels = new Uint8Array(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let alpha = 0;
      let white = 0;
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const x = (px + (sx + 0.5) / samples) / size;
          const y = (py + (sy + 0.5) / samples) / size;
          if (!insideRoundedSquare(x, y)) continue;
          alpha++;
          if (insideShield(x, y) && !onCheckMark(x, y, stroke)) white++;
        }
      }
      const offset = (py * size + px) * 4;
      const whiteShare = alpha === 0 ? 0 : white / alpha;
      for (let c = 0; c < 3; c++) {
        pixels[offset + c] = Math.round((BRAND[c] ?? 0) * (1 - whiteShare) + (WHITE[c] ?? 0) * whiteShare);
      }
      pixels[offset + 3] = Math.round((alpha / (samples * samples)) * 255);
    }
  }
  return pixels;
}

/** Writes icon-<size>.png for every size into the given folder and returns the paths. */
export function writeIcons(outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return ICON_SIZES.map((size) => {
    const path = join(outDir, `icon-${size}.png`);
    writeFileSync(path, encodePng(size, size, drawIcon(size)));
    return path;
  });
}

if (process.argv[1] && resolve(process.argv[1]).endsWith(join("scripts", "manifest-icons.ts"))) {
  const written = writeIcons(resolve(process.argv[2] ?? "addin/assets"));
  for (const path of written) process.stdout.write(`wrote ${path}\n`);
}
