// bench/verify_peer.mjs: the same documents as bench/verify, verified in
// process by a peer: Evervault's Rust validator compiled to WebAssembly
// (@evervault/wasm-attestation-bindings, pinned by bench/peer-verifier/
// package-lock.json), validateAttestationDocPcrs with the same expected
// PCR0/1/2/8. Its clock is Date.now(), set to each document's timestamp (what
// faketime would do for a whole process); one day later must fail, which
// shows the clock is the one in use.
//
//   node verify_peer.mjs MODULES_DIR LIST SECONDS_PER_DOC
import fs from 'fs';
import path from 'path';
import { pathToFileURL } from 'url';

const [dir, listFile, secondsArg] = process.argv.slice(2);
const mod = path.join(dir, 'node_modules/@evervault/wasm-attestation-bindings');
const pkg = JSON.parse(fs.readFileSync(path.join(mod, 'package.json')));
const peer = await import(pathToFileURL(path.resolve(mod, 'index.js')).href);
peer.initSync({ module: fs.readFileSync(path.join(mod, 'index_bg.wasm')) });
const budget = Number(secondsArg) * 1000;
const realNow = Date.now;
// The peer reports its failures on the console; keep them out of the table.
const errors = [];
console.error = (...a) => errors.push(a.join(' '));
console.log = (...a) => errors.push(a.join(' '));
const out = (s) => process.stdout.write(s + '\n');

// One call, with fresh expected PCRs (the bindings consume them).
function verify(doc, pcrs) {
  const p = peer.PCRs.empty();
  [p.pcr0, p.pcr1, p.pcr2, p.pcr8] = pcrs;
  return peer.validateAttestationDocPcrs(doc, [p]);
}

out(`peer (${pkg.name} ${pkg.version}, WebAssembly in Node ${process.version}, in process), ${secondsArg} s per document:`);
let sum = 0, sumBest = 0, n = 0;
for (const line of fs.readFileSync(listFile, 'utf8').split('\n').filter(Boolean)) {
  const [file, ts, ...pcrs] = line.split('\t');
  const name = path.basename(file);
  const doc = fs.readFileSync(file).toString('base64');
  errors.length = 0;
  Date.now = () => Number(ts) + 86400 * 1000;
  const late = verify(doc, pcrs);
  Date.now = () => Number(ts);
  if (!verify(doc, pcrs)) {
    out(`  ${name.padEnd(42)} refused: ${(errors[errors.length - 1] || '').replace(/.*: /, '')}`);
    continue;
  }
  let runs = 0, total = 0, best = Infinity;
  const start = performance.now();
  while (performance.now() - start < budget) {
    const t0 = performance.now();
    verify(doc, pcrs);
    const t = performance.now() - t0;
    total += t;
    best = Math.min(best, t);
    runs++;
  }
  Date.now = realNow;
  out(`  ${name.padEnd(42)} ${(total / runs).toFixed(2).padStart(6)} ms mean, ${best.toFixed(2).padStart(6)} ms best (${runs} runs)${late ? '   ACCEPTED ONE DAY LATE' : ''}`);
  sum += total / runs;
  sumBest += best;
  n++;
}
if (n)
  out(`peer: ${(sum / n).toFixed(2)} ms per document (mean of the means; of the bests ${(sumBest / n).toFixed(2)} ms), ${n} documents`);
