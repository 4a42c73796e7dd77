/**
 * The demo's image handling on top of pngjs, jpeg-js and image-size: PNG
 * decoding against ImageMagick's decoding of the same files (every color type
 * and bit depth, Adam7, tRNS), JPEG decoding (baseline and progressive),
 * encoding round trips, refusals of broken or oversized files, the filters.
 */
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { processCover } from "../../demo/cover_processor.ts";
import { decodeImage, encodeImage } from "../../demo/image/codec.ts";
import { applyFilter } from "../../demo/image/filters.ts";
import { imageHeader, sniffFormat } from "../../demo/image/header.ts";
import { ImageError, type Rgba } from "../../demo/image/image.ts";

const LIMITS = { maxSide: 1000, maxPixels: 100_000 };
const bytes = (b64: string) =>
  Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/**
 * 7×5 PNGs written by ImageMagick 6 (\`convert … -strip -define
 * png:color-type=… -define png:bit-depth=…\`), with the RGBA it decodes them
 * to (\`convert f.png -depth 8 rgba:-\`): [name, png, rgba], base64.
 */
const FIXTURES: [string, string, string][] = [
  [
    "gray 1-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFAQAAAACh4ct1AAAAC0lEQVQI12NggAEAAAoAAef42voAAAAASUVORK5CYII=",
    "AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8AAAD/AAAA/wAAAP8=",
  ],
  [
    "gray 2-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFAgAAAADmQbGlAAAAF0lEQVQI12NoYGGYsYRBRYHBbQpDmggAGsEDWRgwZ3IAAAAASUVORK5CYII=",
    "qqqq/wAAAP8AAAD/AAAA/wAAAP8AAAD/VVVV/6qqqv9VVVX/qqqq/wAAAP+qqqr/qqqq/1VVVf8AAAD/qqqq/1VVVf8AAAD/AAAA/6qqqv8AAAD/VVVV/wAAAP9VVVX/qqqq/6qqqv9VVVX/VVVV/1VVVf+qqqr/VVVV/6qqqv8AAAD/VVVV/1VVVf8=",
  ],
  [
    "gray 4-bit interlaced",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFBAAAAAEeBnSTAAAAKUlEQVQI12NYwGDAEMDAxpDO4M7AIMLAsGQBw7kGhu2L301gaKpemQAAbooJWcXAyJcAAAAASUVORK5CYII=",
    "qqqq/xEREf8AAAD/RERE/zMzM/8AAAD/ZmZm/7u7u/93d3f/qqqq/zMzM//u7u7/7u7u/5mZmf9ERET/qqqq/3d3d/9ERET/AAAA/6qqqv8AAAD/iIiI/yIiIv93d3f/u7u7/6qqqv+ZmZn/ZmZm/1VVVf/MzMz/ZmZm/+7u7v8AAAD/iIiI/3d3d/8=",
  ],
  [
    "gray 8-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAAAAACs8akEAAAAM0lEQVQI1wEoANf/AK4aAE0zDWoCEme68cboNQPpStPwZjlhAZiWVzb78soCy5/vQVjnEkZeEiKP7LGqAAAAAElFTkSuQmCC",
    "rq6u/xoaGv8AAAD/TU1N/zMzM/8NDQ3/ampq/8DAwP+BgYH/urq6/z4+Pv/5+fn/9fX1/5+fn/9JSUn/r6+v/4eHh/9SUlL/CwsL/7m5uf8NDQ3/mJiY/y4uLv+FhYX/u7u7/7a2tv+oqKj/cnJy/2NjY//Nzc3/dHR0//z8/P8ODg7/j4+P/4SEhP8=",
  ],
  [
    "gray 16-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFEAAAAAD8YXVHAAAAVklEQVQI1wFLALT/AK6uGhoAAE1NMzMNDWpqAhISZ2e6uvHxxsbo6DU1A+npSkrT0/DwZmY5OWFhAZiYlpZXVzY2+/vy8srKAsvLn5/v70FBWFjn5xISxsckO00tPtkAAAAASUVORK5CYII=",
    "rq6u/xoaGv8AAAD/TU1N/zMzM/8NDQ3/ampq/8DAwP+BgYH/urq6/z4+Pv/5+fn/9fX1/5+fn/9JSUn/r6+v/4eHh/9SUlL/CwsL/7m5uf8NDQ3/mJiY/y4uLv+FhYX/u7u7/7a2tv+oqKj/cnJy/2NjY//Nzc3/dHR0//z8/P8ODg7/j4+P/4SEhP8=",
  ],
  [
    "gray+alpha 8-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAQAAAAjkz5TAAAAVklEQVQI1wFLALT/AK7IGv8AyE3IMwAN/2rIAMD/gQC6AD7/+QD1AJ//AokALsjNABTJEv/E/27JAZjIlgBXADY3+wDyycoAAGP/zch0//wADv+PAIT/PJwkl3SBEI0AAAAASUVORK5CYII=",
    "rq6uyBoaGv8AAADITU1NyDMzMwANDQ3/ampqyMDAwP+BgYEAurq6AD4+Pv/5+fkA9fX1AJ+fn/9JSUn/r6+vyIeHhwBSUlLICwsL/7m5uf8NDQ3ImJiYyC4uLsiFhYXIu7u7/7a2tv+oqKjIcnJyyGNjY//Nzc3IdHR0//z8/AAODg7/j4+PAISEhP8=",
  ],
  [
    "gray+alpha 16-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFEAQAAABzA+IQAAAAiElEQVQI1wXBsQ1EYByH4feup5CrDKGR0NlAbQCdQmUBiUalu1xnAwOoFIr/J7GMRCEkv3sepsksDCUwy3OzOAbPk6rKjGWR2hbmGbJMui44TxhH6d33EEVm+w6fj3NBIK2rVNfOvX4/s+8XigKSJE3vG47DuW0DylLad7OmkZ4HfF8aBug66Q89jEkqOZ2n/QAAAABJRU5ErkJggg==",
    "rq6uyBoaGv8AAADITU1NyDMzMwANDQ3/ampqyMDAwP+BgYEAurq6AD4+Pv/5+fkA9fX1AJ+fn/9JSUn/r6+vyIeHhwBSUlLICwsL/7m5uf8NDQ3ImJiYyC4uLsiFhYXIu7u7/7a2tv+oqKjIcnJyyGNjY//Nzc3IdHR0//z8/AAODg7/j4+PAISEhP8=",
  ],
  [
    "RGB 8-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAIAAAAG+GGPAAAAeUlEQVQI1wFuAJH/A6VNytMKVlv7z6AaZW4NArO8+gjfiAP3Fjj9KhLQ5fRfgHzgOukQd01mr/0APNZUTfrXJ6Cu/ukjivIhnuSRsQvsAzjQ0h75WYAvhnENPdfxF0Xi53b0nAIhy/wX/cAL9aXGBPuG7acWXetAhwYXczjyJDR7vAAAAABJRU5ErkJggg==",
    "pU3K/yUwu/9tEyz/1iN7/9keP/8fyxn/F0SU/0k8nf80YL7/IB5p/9qg7v+5mX//fCmZ/6/lk/881lT/TfrX/yegrv/+6SP/ivIh/57kkf+xC+z/Vjv8/2+TQv/LyP7/VeXN/0bcjv+3wnb/KlpN/3cG+P+GkAL/1r2j/xvpyP/MyTX/zR9h/2rhU/8=",
  ],
  [
    "RGB 8-bit with tRNS",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAIAAAAG+GGPAAAABnRSTlMACgDIAB5BpeWrAAAAeUlEQVQI1wFuAJH/AArIHnlCvfIhBvCEd2Lw8wrIHstNdgBNxwcgURWaD4kKyB7yxtrK40S7MRIC+DZo6ncJ6tARzf2V3rDSRKwPT5cMAKc1bIiRPyD29y2wIgrIHtJNCpba1AKV4as5GE/q0idLYnz5Xxk+GMb/rHvnETN8r9PWJwAAAABJRU5ErkJggg==",
    "CsgeAHlCvf/yIQb/8IR3/2Lw8/8KyB4Ay012/03HB/8gURX/mg+J/wrIHgDyxtr/yuNE/7sxEv9F/W//CsgeAITfmv/XxbP/0Has/w6PU/8KyB4ApzVs/4iRP/8g9vf/LbAi/wrIHgDSTQr/ltrU/zwWF//BqY7/CsgeAHgSnv8DJzf/EGXQ/5WGT/8=",
  ],
  [
    "RGB 16-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFEAIAAABWaL3MAAAA4klEQVQI1wHXACj/A6WlTU3KytPTCgpWVltb+/vPz6CgGhplZW5uDQ0CArOzvLz6+ggI39+IiAP39xYWODj9/SoqEhLQ0OXl9PRfX4CAfHzg4Do66ekQEHd3TU1mZq+v/f0APDzW1lRUTU36+tfXJyegoK6u/v7p6SMjiory8iEhnp7k5JGRsbELC+zsAzg40NDS0h4e+flZWYCALy+GhnFxDQ09PdfX8fEXF0VF4uLn53Z29PScnAIhIcvL/PwXF/39wMALC/X1paXGxgQE+/uGhu3tp6cWFl1d6+tAQIeHBgY9R3HYsfjY/gAAAABJRU5ErkJggg==",
    "pU3K/yUwu/9tEyz/1iN7/9keP/8fyxn/F0SU/0k8nf80YL7/IB5p/9qg7v+5mX//fCmZ/6/lk/881lT/TfrX/yegrv/+6SP/ivIh/57kkf+xC+z/Vjv8/2+TQv/LyP7/VeXN/0bcjv+3wnb/KlpN/3cG+P+GkAL/1r2j/xvpyP/MyTX/zR9h/2rhU/8=",
  ],
  [
    "RGBA 8-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAYAAACJmvbYAAAAnElEQVQI1wGRAG7/AKVNyv8lMLv/bRMsANYje//ZHj//H8sZ/xdElAAEpO/TAA8wIQCz7j0AbX1zAd/5BP9dXloBM7z6/wMYuAYBFV9OQPEUDgF+SVW/rzHQABtXNIELJ1oBAVY7/P8ZWEYAXDW8AIodz4Hx98GAcebo/3OY1wACIcv8ABf9wAAL9aUAxgT7gIbtpwAWXesAQIcGAES7PNymVWXdAAAAAElFTkSuQmCC",
    "pU3K/yUwu/9tEywA1iN7/9keP/8fyxn/F0SUAEk8nf80YL7/IB5pANqg7gC5mX//fCmZAK/lk/881lSATfrX/yegroD+6SP/ivIh/57kkQCxC+yAVjv8/2+TQv/LyP7/VeXNgEbcjgC3wnb/KlpN/3cG+P+GkAL/1r2j/xvpyADMyTUAzR9h/2rhU/8=",
  ],
  [
    "RGBA 8-bit interlaced",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAYAAAH+ncZOAAAAoklEQVQI1wGXAGj/AKVNyv8A2R4//wB3Bvj/zMk1AABtEywAF0SUAADWvaP/auFT/wA81lSAJ6CugIryIf+xC+yAACUwu//WI3v/H8sZ/wBN+tf//ukj/57kkQACOZYrAB0ApQEvO9D/AUk8nf/rJCEA7L6rAbqChQDf+ZH/w5AaATO8+v8EDf9fACYzRgBcaLz/ex3PgfH3DwFxKd3/c3XXABQjR7kwCE2aAAAAAElFTkSuQmCC",
    "pU3K/yUwu/9tEywA1iN7/9keP/8fyxn/F0SUAEk8nf80YL7/IB5pANqg7gC5mX//fCmZAK/lk/881lSATfrX/yegroD+6SP/ivIh/57kkQCxC+yAVjv8/2+TQv/LyP7/VeXNgEbcjgC3wnb/KlpN/3cG+P+GkAL/1r2j/xvpyADMyTUAzR9h/2rhU/8=",
  ],
  [
    "RGBA 16-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFEAYAAADZCiqbAAABJUlEQVQY0wXBvcsBcRwA8O/vea5brhi83HMJXZLFQJgkN0gZ2Lwkx19wg4yiu4UyG/wBLqPBolxhMbiBUmSySQkZJJy+z+cDqppOL5eIXm8gMJkgSpLF4vcDbLceT72OuN+7XPE4otut6xyHyLKJRLcLQPX7t9tmA2A2BwI8DzAaXa+xGIAkNRq1GiGHw+tFUYiiWC4Xi4SEQpr2fiP+/v2NxzRNiM1WqWQygnC/W60mEyHNZiqVzU6nw2EwuF4DOBz5fDisKAzj8xWLhJBcLho1DESOKxSSSYBSKRLRNIBOx+lcrRTlfn8+53NZrlaPx9MJsVbr9XY7gB+e13XDAGDZ73c2A2CYx0NVARYLivp8ZLnVulwGAwC7XRTPZwBBaLdpGuAf2kx5rcDWStYAAAAASUVORK5CYII=",
    "pU3K/yUwu/9tEywA1iN7/9keP/8fyxn/F0SUAEk8nf80YL7/IB5pANqg7gC5mX//fCmZAK/lk/881lSATfrX/yegroD+6SP/ivIh/57kkQCxC+yAVjv8/2+TQv/LyP7/VeXNgEbcjgC3wnb/KlpN/3cG+P+GkAL/1r2j/xvpyADMyTUAzR9h/2rhU/8=",
  ],
  [
    "palette 8-bit with tRNS",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFCAMAAAC+RAbqAAAAaVBMVEVtEywXRJQgHmnaoO58KZme5JFG3I4b6cjMyTU81lQnoK6xC+xV5c2lTcolMLvWI3vZHj8fyxlJPJ00YL65mX+v5ZNN+tf+6SOK8iFWO/xvk0LLyP63wnYqWk13BviGkALWvaPNH2Fq4VP1FIpYAAAAMElEQVQI12Pg5WPgFxBkZBASZmIWYRFl4BTjEpdg5WaQlJLmYZORZZCTV2DnUFQCACaQAlQMcaCjAAAAAElFTkSuQmCC",
    "pU3K/yUwu/9tEyz/1iN7/9keP/8fyxn/F0SU/0k8nf80YL7/IB5p/9qg7v+5mX//fCmZ/6/lk/881lT/TfrX/yegrv/+6SP/ivIh/57kkf+xC+z/Vjv8/2+TQv/LyP7/VeXN/0bcjv+3wnb/KlpN/3cG+P+GkAL/1r2j/xvpyP/MyTX/zR9h/2rhU/8=",
  ],
  [
    "palette 4-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFBAMAAAB7tOvrAAAAJFBMVEWrLNslMLs9LkvUIF5NxUAlUqliMpvByb072rvl2SxmIPqgt0bOeuB9AAAAIElEQVQI12NgVDZRYAhNLytg6IicwsCwuqJbAUhMdgAATYAHVGjyeVQAAAAASUVORK5CYII=",
    "qyzb/yUwu/89Lkv/1CBe/9QgXv9NxUD/PS5L/yVSqf8lUqn/YjKb/8HJvf/Byb3/YjKb/8HJvf872rv/O9q7/yVSqf/l2Sz/5dks/03FQP+rLNv/ZiD6/6C3Rv/Byb3/O9q7/zvau/+gt0b/PS5L/2Yg+v+gt0b/wcm9/zvau//l2Sz/1CBe/03FQP8=",
  ],
  [
    "palette 2-bit",
    "iVBORw0KGgoAAAANSUhEUgAAAAcAAAAFAgMAAAD09B5LAAAADFBMVEVJNr5ngX3Byb23wj1S85hUAAAAF0lEQVQI12NgDWEQmsOQfoFBMoXB8g4AF7oD0fConBUAAAAASUVORK5CYII=",
    "STa+/0k2vv9ngX3/Z4F9/2eBff9ngX3/Z4F9/0k2vv9ngX3/STa+/8HJvf/Byb3/Z4F9/7fCPf9ngX3/wcm9/2eBff+3wj3/t8I9/2eBff9JNr7/STa+/2eBff/Byb3/Z4F9/2eBff/Byb3/Z4F9/0k2vv+3wj3/wcm9/2eBff+3wj3/Z4F9/7fCPf8=",
  ],
];

/** Baseline and progressive 40×24 JPEGs from ImageMagick. */
const JPEG_BASELINE =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAYACgDASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAYF/8QAFxABAQEBAAAAAAAAAAAAAAAAABRhYv/EABcBAQEBAQAAAAAAAAAAAAAAAAAGAgf/xAAaEQEAAQUAAAAAAAAAAAAAAAAAAxEUFVFh/9oADAMBAAIRAxEAPwDWt0t1O3dF3SVxfFbVRW6W6nbui7oxfCqit0Tt3QYvhVO26W6DoVvHpkt0t0C3j0FugFvHof/Z";
const JPEG_PROGRESSIVE =
  "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wgARCAAYACgDASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAAAAUE/8QAFwEBAQEBAAAAAAAAAAAAAAAAAAUBBv/aAAwDAQACEAMQAAAB1pyVWopwopwnDocAA//EABUQAQEAAAAAAAAAAAAAAAAAAAAS/9oACAEBAAEFArWta1rWta1rWt//xAAUEQEAAAAAAAAAAAAAAAAAAAAg/9oACAEDAQE/AV//xAAXEQEAAwAAAAAAAAAAAAAAAAAAAhMU/9oACAECAQE/AcrKyq4q4q4v/8QAFBABAAAAAAAAAAAAAAAAAAAAMP/aAAgBAQAGPwJ//8QAFhABAQEAAAAAAAAAAAAAAAAAcQAg/9oACAEBAAE/Icgc5znoH//aAAwDAQACAAMAAAAQBBBBBB//xAAWEQEBAQAAAAAAAAAAAAAAAAARACD/2gAIAQMBAT8QZnH/xAAWEQEBAQAAAAAAAAAAAAAAAAAAYXH/2gAIAQIBAT8Qwwwggg//xAAWEAEBAQAAAAAAAAAAAAAAAABxACD/2gAIAQEAAT8Qc5znoAHOc53/2Q==";

for (const [name, png, rgba] of FIXTURES) {
  Deno.test(`png - decodes ${name} as ImageMagick does`, () => {
    const image = decodeImage("png", bytes(png), LIMITS);
    const expected = bytes(rgba);
    assert.deepEqual([image.width, image.height], [7, 5]);
    // 16-bit samples: scaled to 8 bits, rounding may differ by one.
    const tolerance = name.includes("16-bit") ? 1 : 0;
    for (let i = 0; i < expected.length; i++) {
      // A fully transparent pixel has no visible color: pngjs makes it
      // (0,0,0,0) where ImageMagick keeps the stored color (tRNS).
      if (expected[i - (i % 4) + 3] === 0 && i % 4 !== 3) continue;
      if (Math.abs(image.data[i]! - expected[i]!) > tolerance) {
        assert.fail(`byte ${i}: ${image.data[i]} != ${expected[i]}`);
      }
    }
  });
}

function sample(alpha: (i: number) => number): Rgba {
  const width = 33, height = 17;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.set([(i * 7) & 255, (i * 13) & 255, (i * 29) & 255, alpha(i)], i * 4);
  }
  return { width, height, data };
}

Deno.test("png - encode then decode gives the same pixels (RGB when opaque, RGBA otherwise)", () => {
  for (
    const [alpha, colorType] of [[() => 255, 2], [
      (i: number) => i & 255,
      6,
    ]] as const
  ) {
    const image = sample(alpha);
    const png = encodeImage("png", image);
    assert.equal(sniffFormat(png), "png");
    assert.equal(png[25], colorType);
    const back = decodeImage("png", png, LIMITS);
    assert.deepEqual(
      [back.width, back.height, [...back.data]],
      [image.width, image.height, [...image.data]],
    );
  }
});

Deno.test("png - broken files are refused with an ImageError", () => {
  const good = encodeImage("png", sample(() => 255));
  const cases: [string, Uint8Array][] = [
    ["signature", bytes("R0lGODlhAQABAAAAACw=")],
    ["inside IDAT", Uint8Array.from(good, (b, i) => i >= 40 && i < 50 ? 0 : b)],
    ["truncated", good.slice(0, good.length - 20)],
  ];
  for (const [what, file] of cases) {
    assert.throws(() => decodeImage("png", file, LIMITS), (error) => {
      assert.ok(error instanceof ImageError, `${what}: ${error}`);
      assert.match(
        error.message,
        /^(PNG is corrupt: |not a PNG|the image header)/,
        what,
      );
      return true;
    });
  }
});

Deno.test("png - size limits are checked from the header, before decoding", () => {
  const big = encodeImage("png", {
    width: 400,
    height: 300,
    data: new Uint8Array(400 * 300 * 4).fill(255),
  });
  assert.deepEqual(imageHeader(big, { maxSide: 400, maxPixels: 120_000 }), {
    width: 400,
    height: 300,
  });
  const small = { maxSide: 399, maxPixels: 1e6 };
  assert.throws(() => imageHeader(big, small), /at most 399 pixels a side/);
  assert.throws(
    () => decodeImage("png", big, { maxSide: 1000, maxPixels: 100_000 }),
    /100000 pixels in all/,
  );
});

Deno.test("png - image data larger than the header says is refused (decompression bomb)", () => {
  const png = encodeImage("png", sample(() => 255));
  // Shrink the height in IHDR (and fix its CRC): the data now inflates past it.
  const forged = png.slice();
  const view = new DataView(forged.buffer);
  view.setUint32(20, 3);
  view.setUint32(29, crc32(forged.subarray(12, 29)));
  assert.throws(() => decodeImage("png", forged, LIMITS), ImageError);
});

Deno.test("filters - grayscale, sepia and invert apply their color matrix; alpha is kept", () => {
  const image: Rgba = {
    width: 2,
    height: 1,
    data: Uint8Array.of(200, 100, 50, 255, 0, 255, 0, 77),
  };
  const gray = applyFilter(image, "grayscale").data;
  assert.deepEqual([...gray], [
    ...Array(3).fill(Math.round(0.2126 * 200 + 0.7152 * 100 + 0.0722 * 50)),
    255,
    ...Array(3).fill(Math.round(0.7152 * 255)),
    77,
  ]);
  assert.deepEqual([...applyFilter(image, "invert").data], [
    55,
    155,
    205,
    255,
    255,
    0,
    255,
    77,
  ]);
  // Sepia of white clamps to 255 where a row sums past 1.
  const white: Rgba = {
    width: 1,
    height: 1,
    data: Uint8Array.of(255, 255, 255, 255),
  };
  assert.deepEqual([...applyFilter(white, "sepia").data], [255, 255, 239, 255]);
});

Deno.test("jpeg - baseline and progressive files decode to their size; refusals", () => {
  for (const file of [JPEG_BASELINE, JPEG_PROGRESSIVE]) {
    assert.equal(sniffFormat(bytes(file)), "jpeg");
    assert.deepEqual(imageHeader(bytes(file), LIMITS), {
      width: 40,
      height: 24,
    });
    const image = decodeImage("jpeg", bytes(file), LIMITS);
    assert.deepEqual([image.width, image.height], [40, 24]);
    assert.equal(image.data.length, 40 * 24 * 4);
  }
  assert.equal(sniffFormat(bytes("iVBORw0KGgo=")), "png");
  assert.throws(
    () => decodeImage("jpeg", bytes(JPEG_BASELINE).slice(0, 30), LIMITS),
    ImageError,
  );
  const cut = bytes(JPEG_BASELINE);
  assert.throws(
    () => decodeImage("jpeg", cut.slice(0, cut.length - 120), LIMITS),
    /JPEG is corrupt: /,
  );
});

Deno.test("jpeg - encode then decode keeps the picture (lossy, within a few levels)", () => {
  const width = 64, height = 32;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const x = i % width, y = Math.floor(i / width);
    data.set([x * 4, y * 8, 128, 255], i * 4);
  }
  const jpeg = encodeImage("jpeg", { width, height, data });
  assert.equal(sniffFormat(jpeg), "jpeg");
  const back = decodeImage("jpeg", jpeg, LIMITS);
  assert.deepEqual([back.width, back.height], [width, height]);
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    worst = Math.max(worst, Math.abs(back.data[i]! - data[i]!));
  }
  assert.ok(worst <= 12, `largest difference ${worst}`);
});

Deno.test("covers - a filtered JPEG is a JPEG, a filtered PNG a PNG, with the filter's colors", async () => {
  const width = 16, height = 8;
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i += 4) data.set([200, 40, 40, 255], i);
  for (const format of ["jpeg", "png"] as const) {
    const cover = await processCover({
      format,
      bytes: encodeImage(format, { width, height, data }),
      filter: "grayscale",
      width,
      height,
    });
    assert.equal(cover.type, `image/${format}`);
    assert.equal(sniffFormat(cover.bytes), format);
    const out = decodeImage(format, cover.bytes, LIMITS);
    const gray = Math.round(0.2126 * 200 + 0.7152 * 40 + 0.0722 * 40);
    const tolerance = format === "jpeg" ? 8 : 0;
    for (let i = 0; i < out.data.length; i += 4) {
      for (const channel of [0, 1, 2]) {
        assert.ok(
          Math.abs(out.data[i + channel]! - gray) <= tolerance,
          `${format} pixel ${i / 4}: ${out.data[i + channel]} vs ${gray}`,
        );
      }
    }
  }
});
