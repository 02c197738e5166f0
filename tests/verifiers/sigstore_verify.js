// The Sigstore JavaScript verifier (@sigstore/verify, pinned in
// package-lock.json) on a Sigstore bundle, with one trusted public key and
// no transparency log, CT log or timestamp authority (thresholds 0): what a
// consumer of cleanroom.sigstore.json runs, given the enclave key that
// `cleanroom verify --key-out` wrote.
//   node sigstore_verify.js MODULES_DIR BUNDLE KEY.pem [--under-hint]
// The key is trusted under its key id (hex SHA-256 of its DER
// SubjectPublicKeyInfo, what cleanroom writes as publicKey.hint);
// --under-hint trusts it under the bundle's own hint instead, so that a key
// that did not sign is refused by the signature check itself.
// Exit 0 verified; 1 refused (the verifier's error code on stdout); 2 usage.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

const args = process.argv.slice(2);
if (args.length < 3 || args.length > 4 || (args[3] && args[3] !== '--under-hint')) {
  console.error('usage: sigstore_verify.js MODULES_DIR BUNDLE KEY.pem [--under-hint]');
  process.exit(2);
}
const [dir, bundlePath, keyPath, mode] = args;
const load = (m) => require(require.resolve(m, { paths: [dir] }));
const { bundleFromJSON } = load('@sigstore/bundle');
const { toSignedEntity, toTrustMaterial, Verifier } = load('@sigstore/verify');

try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const der = crypto.createPublicKey(fs.readFileSync(keyPath)).export({ type: 'spki', format: 'der' });
  const name = mode === '--under-hint'
    ? bundle.verificationMaterial.content.publicKey.hint
    : crypto.createHash('sha256').update(der).digest('hex');
  const noRoots = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const trust = toTrustMaterial(noRoots, { [name]: { rawBytes: der } });
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  console.log('verified');
} catch (e) {
  console.log(`refused: ${e.code || e.name}: ${e.message}`);
  process.exit(1);
}
