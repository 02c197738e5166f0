#!/bin/bash
# cleanroom eif --oci: images made by real tools (umoci, skopeo) and hostile
# ones crafted here (ocitest.py), local files only. Every refusal must exit
# 1 with one line naming the entry, write no EIF and leave $TMPDIR empty.
. "$(dirname "$0")/lib.sh"
REF="python3 $(realpath "$(dirname "$0")")/eifref.py"
OT="python3 $(realpath "$(dirname "$0")")/ocitest.py"
INIT=${INIT:-build/init}
T=$T_TMP
[ -x "$CLEANROOM" ] || { not_ok "setup" "$CLEANROOM is not built"; exit 1; }
for tool in umoci skopeo; do
	command -v $tool >/dev/null || { not_ok "setup" "$tool is not installed (APT_PKGS)"; exit 1; }
done
head -c 100000 /dev/urandom >"$T/kernel"
export TMPDIR=$T/private
mkdir -p "$TMPDIR"
export OUTSIDE=$T/outside
mkdir -p "$OUTSIDE"

eif() { "$CLEANROOM" eif --kernel "$T/kernel" --init "$INIT" "$@"; }
tmpdir_empty() { [ -z "$(ls -A "$TMPDIR")" ]; }
rd1() { # EIF DIR: the customer ramdisk's files into DIR
	rm -rf "$2" && mkdir -p "$2" && $REF extract "$1" 4 "$T/$2.cpio" && (cd "$2" && cpio -id --quiet <"$T/$2.cpio")
}
pcrs() { python3 -c 'import json,sys; m=json.load(sys.stdin)["Measurements"]; print(m["PCR0"], m["PCR1"], m["PCR2"])'; }

# --- a three-layer image made with umoci: files, a hard link, a symlink, a
# set-uid file; then deletions (umoci writes whiteouts); then an opaque
# directory (no tool here writes one: a tarfile layer added with umoci raw).
cd "$T" || exit 1
umoci init --layout img >/dev/null && umoci new --image img:app >/dev/null &&
	umoci unpack --image img:app b >/dev/null || { not_ok "setup" "umoci could not make an image"; exit 1; }
R=b/rootfs
mkdir -p $R/bin $R/etc $R/del $R/opq $R/keep
echo hello >$R/etc/greet
ln $R/etc/greet $R/etc/greet-hard
ln -s ../etc/greet $R/bin/greet-link
printf '#!/bin/sh\necho hi\n' >$R/bin/tool
chmod 4755 $R/bin/tool
echo x >$R/del/x
echo y >$R/del/y
echo a >$R/opq/a
echo k >$R/keep/k
# 2 MiB that gzip cannot shrink: the layer spans many reads of the blob.
head -c $((2 << 20)) /dev/urandom >$R/bin/blob
umoci repack --refresh-bundle --image img:app b >/dev/null
rm $R/del/x
rm -r $R/keep
echo new >$R/etc/new
umoci repack --refresh-bundle --image img:app b >/dev/null
$OT opaque opq.tar
umoci raw add-layer --image img:app opq.tar >/dev/null
umoci config --image img:app --config.cmd /bin/tool --config.cmd arg1 --config.env GREETING=hi >/dev/null
# The tree the image must give: the last unpacked tree, with opq/ replaced.
rm -rf $R/opq/* && echo new >$R/opq/c
nlayers=$(python3 -c 'import json,sys; i=json.load(open("img/index.json")); m=json.load(open("img/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(len(m["layers"]))')
same "umoci made a three-layer image" "$nlayers" 3
zcat_layers=$(for f in img/blobs/sha256/*; do gzip -dc "$f" 2>/dev/null | tar -t 2>/dev/null; done)
echo "$zcat_layers" | grep -q 'del/.wh.x' && ok "umoci wrote a whiteout for the deletion" || not_ok "umoci wrote a whiteout for the deletion" "none found"

# --- pack it
if eif --oci img:app -o oci.eif >oci.json 2>oci.err; then ok "--oci packs an OCI layout (by tag)"; else not_ok "--oci packs an OCI layout (by tag)" "$(cat oci.err)"; fi
tmpdir_empty && ok "the private directory is gone after a pack" || not_ok "the private directory is gone after a pack" "$(ls "$TMPDIR")"
rd1 oci.eif x
same "cmd is the config's Cmd" "$(cat x/cmd)" "$(printf '/bin/tool\narg1')"
grep -qx 'GREETING=hi' x/env && ok "env holds the config's Env" || not_ok "env holds the config's Env" "$(cat x/env)"
[ ! -e x/rootfs/del/x ] && [ -e x/rootfs/del/y ] && ok "a whiteout removes a lower layer's file only" || not_ok "a whiteout removes a lower layer's file only" "$(ls x/rootfs/del)"
[ ! -e x/rootfs/keep ] && ok "a whiteout removes a lower layer's directory" || not_ok "a whiteout removes a lower layer's directory" "keep/ is there"
same "an opaque directory hides the lower layers, not its own layer's entries" "$(ls x/rootfs/opq | tr '\n' ' ')" "c "
[ "$(stat -c %i x/rootfs/etc/greet)" = "$(stat -c %i x/rootfs/etc/greet-hard)" ] && ok "hard links stay hard links" || not_ok "hard links stay hard links" "different inodes"
same "symlinks stay symlinks" "$(readlink x/rootfs/bin/greet-link)" "../etc/greet"
same "set-uid dropped, execute bit kept (0755)" "$(stat -c %a x/rootfs/bin/tool)" "755"

# --- the same tree as a directory gives the same bytes
printf '/bin/tool\narg1\n' >cmdf
cp x/env envf
eif --rootfs $R -o dir.eif --cmd-file cmdf --env-file envf >dir.json 2>dir.err || not_ok "--rootfs of the expected tree packs" "$(cat dir.err)"
same "PCRs of --oci equal --rootfs of the expected tree" "$(pcrs <oci.json)" "$(pcrs <dir.json)"
eif --oci img:app --no-image-info -o oci-noinfo.eif >/dev/null 2>&1
cmp -s oci-noinfo.eif dir.eif && ok "--oci --no-image-info is byte-identical to --rootfs" || not_ok "--oci --no-image-info is byte-identical to --rootfs" "files differ"
# Layers made with other mtimes/owners/order: umoci again, a day later, as another uid.
d=$(describe() { "$CLEANROOM" describe --json "$1"; }; describe oci.eif)
same "ImageVersion is the image Id (config digest)" "$(echo "$d" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ImageVersion"])')" \
	"$(python3 -c 'import json; i=json.load(open("img/index.json")); m=json.load(open("img/blobs/sha256/"+i["manifests"][0]["digest"][7:])); print(m["config"]["digest"][7:])')"
same "ImageName is the reference name" "$(echo "$d" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ImageName"])')" "app"
echo "$d" | python3 -c 'import json,sys; i=json.load(sys.stdin)["Metadata"]["DockerInfo"]; assert i["RepoDigests"][0].startswith("app@sha256:")' &&
	ok "DockerInfo records the manifest digest" || not_ok "DockerInfo records the manifest digest" "$d"
mdig=$(python3 -c 'import json; print(json.load(open("img/index.json"))["manifests"][0]["digest"])')
eif --oci "img@$mdig" -o bydigest.eif >bydigest.json 2>&1
same "selecting by manifest digest gives the same PCRs" "$(pcrs <bydigest.json)" "$(pcrs <oci.json)"
eif --oci img --name n --version v -o nv.eif >/dev/null 2>&1
same "--name/--version override the image's" "$("$CLEANROOM" describe --json nv.eif | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["ImageName"], d["ImageVersion"])')" "n v"
eif --oci img -o over.eif --cmd /bin/other >/dev/null 2>&1 && rd1 over.eif o
same "--cmd overrides the image's Cmd (Env kept)" "$(cat o/cmd; grep -c GREETING o/env)" "$(printf '/bin/other\n1')"

# --- the same image as OCI archive and docker archive (skopeo)
skopeo copy -q oci:img:app oci-archive:img-oci.tar:app >/dev/null 2>&1 || not_ok "skopeo makes an OCI archive" "failed"
skopeo copy -q oci:img:app docker-archive:img-docker.tar:app:latest >/dev/null 2>&1 || not_ok "skopeo makes a docker archive" "failed"
eif --oci img-oci.tar -o ocia.eif >ocia.json 2>ocia.err || not_ok "--oci packs an OCI archive" "$(cat ocia.err)"
cmp -s ocia.eif oci.eif && ok "OCI archive and OCI directory give the same EIF bytes" || not_ok "OCI archive and OCI directory give the same EIF bytes" "differ"
eif --oci img-docker.tar:app:latest -o dock.eif >dock.json 2>dock.err || not_ok "--oci packs a docker archive" "$(cat dock.err)"
same "docker archive gives the same PCRs" "$(pcrs <dock.json)" "$(pcrs <oci.json)"
eif --oci img-docker.tar --no-image-info -o dock-noinfo.eif >/dev/null 2>&1
cmp -s dock-noinfo.eif dir.eif && ok "docker archive --no-image-info is byte-identical to --rootfs" || not_ok "docker archive --no-image-info is byte-identical to --rootfs" "differ"
same "docker archive: ImageName from RepoTags up to ':'" "$("$CLEANROOM" describe --json dock.eif | python3 -c 'import json,sys; print(json.load(sys.stdin)["ImageName"])')" "app"

# --- zstd layers (skopeo recompresses), a multi-arch nested index, a "/" entry
skopeo copy -q --dest-compress-format zstd oci:img:app oci:zimg:app >/dev/null 2>&1 || not_ok "skopeo writes zstd layers" "failed"
grep -q 'tar+zstd' zimg/blobs/sha256/* && ok "skopeo wrote zstd layers" || not_ok "skopeo wrote zstd layers" "no tar+zstd media type"
eif --oci zimg:app -o z.eif >z.json 2>z.err || not_ok "--oci packs zstd layers" "$(cat z.err)"
same "zstd layers give the same PCRs" "$(pcrs <z.json)" "$(pcrs <oci.json)"
rm -rf ma && cp -r img ma && $OT multiarch ma
eif --oci ma:multi -o ma.eif >ma.json 2>ma.err || not_ok "--oci resolves a nested multi-arch index" "$(cat ma.err)"
same "multi-arch index, --arch x86_64: the linux/amd64 image" "$(pcrs <ma.json)" "$(pcrs <oci.json)"
eif --oci ma:multi --arch aarch64 -o ma-arm.eif >/dev/null 2>ma.err && rd1 ma-arm.eif maa
same "multi-arch index, --arch aarch64: the linux/arm64 image" "$(cat maa/cmd 2>&1)" "/bin/arm64-cmd"
rm -rf rs && cp -r img rs && $OT layer rs root-slash
eif --oci rs:app -o rs.eif >/dev/null 2>rs.err && rd1 rs.eif rsx && [ -f rsx/rootfs/rootslash-ok ] &&
	ok "a '/' entry is the root directory (umoci insert writes one)" || not_ok "a '/' entry is the root directory" "$(cat rs.err)"

rm -rf wl wl.eif && cp -r img wl && $OT layer wl wh-under-link
expect_fail "a whiteout below a lower layer's symlink is refused (other tools delete through it)" \
	"entry 'ws/\.wh\.greet': a directory on its path is a symlink" eif --oci wl:app -o wl.eif
[ ! -e wl.eif ] && ok "... no EIF" || not_ok "... no EIF" "wl.eif left behind"

# the caller's umask does not reach the tree's modes, the ramdisk or PCR2
(umask 022 && eif --oci img:app -o um022.eif >um022.json 2>&1)
(umask 177 && eif --oci img:app -o um177.eif >um177.json 2>&1)
same "packed under umask 022 and 177: the same PCRs" "$(pcrs <um177.json 2>&1)" "$(pcrs <um022.json 2>&1)"

rm -rf u8 && cp -r img u8 && $OT layer u8 utf8
eif --oci u8:app -o u8.eif >/dev/null 2>u8.err && rd1 u8.eif u8x && [ -f "u8x/rootfs/caf$(printf '\303\251')" ] &&
	ok "non-ASCII names and owner names in PAX headers unpack (as UTF-8 bytes)" ||
	not_ok "non-ASCII names and owner names in PAX headers unpack" "$(cat u8.err)"

# --- Docker 25+ archives hold index.json (preferred) and manifest.json
mkdir -p d25 && cp -r img/. d25/ && mkdir -p dk25 && tar -C dk25 -xf img-docker.tar && cp dk25/manifest.json d25/ &&
	python3 -c 'import json; p="d25/index.json"; i=json.load(open(p)); i["manifests"]=[m for m in i["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"]=="app"]; i["manifests"][0]["annotations"]["io.containerd.image.name"]="docker.io/library/app:latest"; json.dump(i, open(p, "w"))' &&
	tar -C d25 -cf d25.tar .
eif --oci d25.tar:app:latest -o d25.eif >d25.json 2>d25.err || not_ok "a Docker 25 archive packs (by its containerd name)" "$(cat d25.err)"
same "a Docker 25 archive: index.json used (manifest digest in DockerInfo), same PCRs" 	"$("$CLEANROOM" describe --json d25.eif | python3 -c 'import json,sys; i=json.load(sys.stdin)["Metadata"]["DockerInfo"]; print(i["RepoTags"], i["RepoDigests"][0][:11])') $(pcrs <d25.json)" 	"['app:latest'] app@sha256: $(pcrs <oci.json)"

# --- an image made by buildah (vfs storage, from scratch, no 'run')
if command -v buildah >/dev/null; then
	BA=(buildah --root "$T/bh-root" --runroot "$T/bh-run" --storage-driver vfs)
	ctr=$("${BA[@]}" from scratch 2>/dev/null) && mnt=$("${BA[@]}" mount "$ctr" 2>/dev/null) &&
		mkdir -p "$mnt/bin" && printf '#!/bin/sh
' >"$mnt/bin/app" && chmod 755 "$mnt/bin/app" && ln -s app "$mnt/bin/app-link" &&
		"${BA[@]}" config --entrypoint '["/bin/app"]' --cmd '["--flag"]' --env MODE=prod "$ctr" 2>/dev/null &&
		cp -a "$mnt" bh-tree && "${BA[@]}" commit -q "$ctr" "oci:$T/bh:app" >/dev/null 2>&1 &&
		"${BA[@]}" rm "$ctr" >/dev/null 2>&1 || not_ok "buildah makes an image" "buildah failed"
	eif --oci bh:app -o bh.eif >bh.json 2>bh.err && rd1 bh.eif bhx
	same "buildah image, ENTRYPOINT and CMD: cmd = Cmd only (nitro-cli)" "$(cat bhx/cmd 2>&1)" "--flag"
	printf -- '--flag
' >bh-cmd
	eif --rootfs bh-tree -o bh-dir.eif --env-file bhx/env --cmd-file bh-cmd >bh-dir.json 2>&1
	same "buildah image: the same PCRs as --rootfs of its tree" "$(pcrs <bh.json)" "$(pcrs <bh-dir.json)"
	rm -rf "$T/bh-root" "$T/bh-run"
else
	not_ok "buildah is installed (APT_PKGS)" "missing"
fi

# docker save stores a repeated layer once and links to it (a symlink entry)
rm -rf dks && mkdir dks && tar -C dks -xf img-docker.tar && python3 - dks <<'PY' && tar -C dks -cf dks.tar .
import hashlib, json, os, sys
d = sys.argv[1]
m = json.load(open(os.path.join(d, "manifest.json")))
cfg_name = m[0]["Config"]
cfg = json.load(open(os.path.join(d, cfg_name)))
first = m[0]["Layers"][-1]  # the opaque layer: applying it twice changes nothing
cfg["rootfs"]["diff_ids"].append(cfg["rootfs"]["diff_ids"][-1])
os.makedirs(os.path.join(d, "dup"))
os.symlink("../" + first, os.path.join(d, "dup", "layer.tar"))
m[0]["Layers"].append("dup/layer.tar")
data = json.dumps(cfg).encode()
os.unlink(os.path.join(d, cfg_name))
m[0]["Config"] = hashlib.sha256(data).hexdigest() + ".json"
open(os.path.join(d, m[0]["Config"]), "wb").write(data)
json.dump(m, open(os.path.join(d, "manifest.json"), "w"))
PY
eif --oci dks.tar --no-image-info -o dks.eif >dks.json 2>dks.err || not_ok "a docker archive with a symlinked (repeated) layer packs" "$(cat dks.err)"
same "a docker archive with a symlinked (repeated) layer: same PCRs" "$(pcrs <dks.json)" "$(pcrs <oci.json)"

# --- the layers' entry order, mtimes and owners do not show
rm -rf oa ob && cp -r img oa && cp -r img ob && $OT layer oa order-a && $OT layer ob order-b
eif --oci oa:app --no-image-info -o oa.eif >/dev/null 2>&1 && eif --oci ob:app --no-image-info -o ob.eif >/dev/null 2>&1 &&
	cmp -s oa.eif ob.eif && ok "one tree in other entry orders, mtimes and owners: the same EIF" ||
	not_ok "one tree in other entry orders, mtimes and owners: the same EIF" "$(cmp oa.eif ob.eif 2>&1)"

# --- Cmd / Entrypoint as nitro-cli: Cmd if present, else Entrypoint, never both
cmdof() { # MUTATION... : a copy of the image with a changed config; prints its cmd
	rm -rf ep && cp -r img ep && umoci config --image ep:app "$@" >/dev/null &&
		eif --oci ep:app -o ep.eif >/dev/null 2>ep.err && rd1 ep.eif epx && tr '\n' ' ' <epx/cmd
}
same "only Entrypoint: cmd = Entrypoint" "$(cmdof --clear=config.cmd --config.entrypoint /bin/ep --config.entrypoint e1)" "/bin/ep e1 "
same "only Cmd: cmd = Cmd" "$(cmdof --config.cmd /bin/c)" "/bin/c "
same "both: cmd = Cmd, Entrypoint ignored (nitro-cli)" "$(cmdof --config.entrypoint /bin/ep --config.cmd /bin/c)" "/bin/c "
rm -rf nocmd && cp -r img nocmd && umoci config --image nocmd:app --clear=config.cmd >/dev/null
expect_fail "neither Cmd nor Entrypoint: refused, naming --cmd and --agent" "neither Cmd nor Entrypoint.*--cmd.*--agent" eif --oci nocmd:app -o n.eif
[ ! -e n.eif ] && ok "no EIF after the refusal" || not_ok "no EIF after the refusal" "n.eif exists"
eif --oci nocmd:app --agent -o agent.eif >/dev/null 2>&1 && rd1 agent.eif ag
[ -d ag/rootfs ] && [ ! -e ag/cmd ] && [ ! -e ag/env ] && ok "--agent: no /cmd, no /env" || not_ok "--agent: no /cmd, no /env" "$(ls ag)"

# --- selection errors
skopeo copy -q oci:img:app oci:img:second >/dev/null 2>&1
expect_fail "two images and no tag: asks for one" "lists 2 images.*PATH:TAG" eif --oci img -o s.eif
expect_fail "an unknown tag is named" "no image named 'nope'" eif --oci img:nope -o s.eif
expect_fail "a foreign architecture is refused" "architecture.*amd64.*aarch64|arm64" eif --oci img:app --arch aarch64 -o s.eif

# --- hostile layers: refused naming the entry, exit 1, no EIF, nothing left
hostile() { # NAME KIND PATTERN [eif args]
	local name=$1 kind=$2 pat=$3
	shift 3
	rm -rf h h.eif && cp -r img h && $OT layer h "$kind" && (cd h && umoci gc --layout . 2>/dev/null; true)
	expect_fail "$name" "$pat" eif --oci h:app -o h.eif "$@"
	[ ! -e h.eif ] && tmpdir_empty && [ -z "$(ls -A "$OUTSIDE")" ] && ok "$name: no EIF, no temp dir, nothing outside" ||
		not_ok "$name: no EIF, no temp dir, nothing outside" "$(ls h.eif "$TMPDIR" "$OUTSIDE" 2>&1 | tr '\n' ' ')"
}
hostile "'..' in a name" dotdot "entry '\.\./evil'.*escape"
hostile "absolute name" absolute "entry '/abs-evil'.*absolute"
hostile "symlink then write through it, one layer" symlink-then-write "entry 's/evil'.*symlink"
hostile "symlink then write through it, across layers" symlink-across-layers "layer $((nlayers + 2)) .*entry 's2/evil'.*symlink"
hostile "symlink then a directory through it, across layers" symlink-dir-across-layers "entry 's3/evil/?'.*symlink"
hostile "hard link to outside" hardlink-outside "entry 'h'.*hard link target.*escape"
hostile "hard link to an absolute name" hardlink-absolute "entry 'h'.*hard link target.*absolute"
hostile "hard link to a missing file" hardlink-missing "entry 'h'.*hard link target 'no/such/file': missing"
hostile "device node" device "entry 'dev/evil-null'.*device node"
hostile "FIFO" fifo "entry 'evil-fifo'.*FIFO"
hostile "/proc as a symlink" proc-symlink "--oci: the image's /proc is a symlink; the enclave needs a directory there"
hostile "/var as a regular file" var-file "--oci: the image's /var is a regular file; the enclave needs a directory there"
hostile "gzip bomb under --max-unpacked" bomb "entry 'bomb'.*--max-unpacked" --max-unpacked 8M
hostile "many files past --max-unpacked" many-files "entry 'f[0-9]+'.*--max-unpacked" --max-unpacked 4M
hostile "64 MiB of data on a directory entry under --max-unpacked 4M" dir-data "decompresses to more than its entries and --max-unpacked \(4194304 bytes\)" --max-unpacked 4M
hostile "gzip inside gzip (media type tar+gzip)" gzip-gzip "its content is compressed 2 times, its media type says once"
"$CLEANROOM" eif --oci img:app --max-unpacked 0 -o z.eif >/dev/null 2>&1
same "--max-unpacked 0: exit status 2" "$?" 2

# --- broken layouts: refused naming the blob or field
broken() { # NAME KIND PATTERN
	rm -rf h h.eif && cp -r img h && $OT corrupt h "$2"
	expect_fail "$1" "$3" eif --oci h:app -o h.eif
	[ ! -e h.eif ] && tmpdir_empty && ok "$1: no EIF, no temp dir" || not_ok "$1: no EIF, no temp dir" "left behind"
}
broken "a layer with a wrong digest" wrong-digest "blobs/sha256/[0-9a-f]+: digest mismatch"
broken "a layer longer than its descriptor" smaller-size "longer than its descriptor's size"
broken "a layer shorter than its descriptor" wrong-size "bytes, its descriptor says"
broken "a truncated layer" truncated "(bytes, its descriptor says|not a valid tar|truncated|gzip)"
broken "a missing blob" missing-blob "blobs/sha256/[0-9a-f]+ is missing"
broken "digest of the wrong type" bad-digest-type "manifest layers\[$((nlayers - 1))\]\.digest: is a number, expected a string"
broken "digest text malformed" bad-digest-text "manifest layers\[$((nlayers - 1))\]\.digest: 'sha256:xyz' is not"
broken "schemaVersion 1" bad-schema "manifest schemaVersion: 1, expected 2"
broken "unknown layer media type" bad-layer-mediatype "manifest layers\[$((nlayers - 1))\]\.mediaType: 'application/x-evil'"
broken "Cmd not a list" bad-cmd "config config\.Cmd: is a string, expected an array"
broken "Env entry without '='" bad-env "config config\.Env\[0\]: expected KEY=VALUE"
broken "config for another architecture" wrong-arch "config architecture: 's390x'"
# keys Go's JSON decoders (Docker, skopeo, umoci) read as one: other tools would see other values
broken "config: Cmd and cmd (Go reads the last)" case-cmd "config object 'config': keys '(Cmd|cmd)' and '(Cmd|cmd)' differ only in case"
broken "config: env alone (Go reads it as Env)" case-env-only "config config\.Env: spelled 'env'"
broken "manifest: layers and layer+U+017F (Go reads the last)" fold-layers "manifest: keys 'layer.{1,8}' and 'layer.{1,8}' differ only in case"
broken "index.json: manifests and Manifests" fold-index "index.json: keys '(M|m)anifests' and '(M|m)anifests' differ only in case"
rm -rf h h.eif && cp -r img h && $OT corrupt h case-labels
if eif --oci h:app -o h.eif >/dev/null 2>h.err; then ok "config: labels 'a' and 'A' pack (a map in Go: two labels there too)"
else not_ok "config: labels 'a' and 'A' pack (a map in Go: two labels there too)" "$(cat h.err)"; fi
broken "a layer whose uncompressed tar is not its diff_id" wrong-diffid "layer $nlayers \(sha256:[0-9a-f]{12}\): its uncompressed tar is sha256:[0-9a-f]{12}\.\.\., its rootfs.diff_ids entry says sha256:000000000000"
broken "fewer diff_ids than layers" fewer-diffids "manifest layers: $nlayers layers, the config's rootfs.diff_ids has $((nlayers - 1))"
# docker archive: the config named by its digest, layers by diff_ids
mkdir -p dk && tar -C dk -xf img-docker.tar && cfg=$(python3 -c 'import json; print(json.load(open("dk/manifest.json"))[0]["Config"])')
echo ' ' >>"dk/$cfg" && tar -C dk -cf dk.tar . 
expect_fail "docker archive: a config that is not its name's digest" "manifest.json Config: .* does not match" eif --oci dk.tar -o h.eif
rm -rf dk && mkdir dk && tar -C dk -xf img-docker.tar && l0=$(python3 -c 'import json; print(json.load(open("dk/manifest.json"))[0]["Layers"][0])')
printf 'x' | dd of="dk/$l0" bs=1 seek=600 conv=notrunc 2>/dev/null && tar -C dk -cf dk.tar .
expect_fail "docker archive: a layer that does not match its diff_id" "digest mismatch" eif --oci dk.tar -o h.eif
# a member twice: docker load and skopeo take the last copy, a first-match reader the first
rm -rf dupm && mkdir dupm && echo '{"schemaVersion":2,"manifests":[]}' >dupm/index.json && echo '[]' >dupm/manifest.json
cp img-oci.tar dup1.tar && tar -C dupm -rf dup1.tar ./index.json
expect_fail "OCI archive: index.json twice (once as ./index.json) is refused" "member 'index.json' appears twice" eif --oci dup1.tar -o h.eif
cp img-docker.tar dup2.tar && tar -C dupm -rf dup2.tar manifest.json
expect_fail "docker archive: manifest.json twice is refused" "member 'manifest.json' appears twice" eif --oci dup2.tar -o h.eif
tmpdir_empty && ok "nothing left in TMPDIR after the docker archive refusals" || not_ok "nothing left in TMPDIR after the docker archive refusals" "$(ls "$TMPDIR")"

# --- a signal during a pack removes the private directory and the output
rm -rf big && cp -r img big && mkdir -p bigroot && head -c $((300 << 20)) /dev/urandom >bigroot/blob &&
	tar -C bigroot -cf big.tar blob && umoci raw add-layer --image big:app big.tar >/dev/null 2>&1
# (the tool itself in the background, not a shell function's subshell)
"$CLEANROOM" eif --kernel "$T/kernel" --init "$INIT" --oci big:app -o big.eif >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do [ -n "$(ls -A "$TMPDIR")" ] && break; sleep 0.05; done
sleep 0.3
kill -TERM $pid
wait $pid
rc=$?
[ $rc -ne 0 ] && [ ! -e big.eif ] && tmpdir_empty && [ -z "$(ls -A . | grep '^\.big\.eif\|big\.eif\.')" ] &&
	ok "SIGTERM during a pack: no EIF, no temp dir (status $rc)" || not_ok "SIGTERM during a pack: no EIF, no temp dir" "status $rc, left: $(ls -A "$TMPDIR")"

t_done
