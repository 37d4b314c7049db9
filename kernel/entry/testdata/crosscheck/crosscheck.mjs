// Independent cross-check of kernel/entry golden vectors (../vectors.json).
//
// Every vector is re-derived from its v0 JSON text alone, with the IPLD
// JavaScript reference libraries, following docs/PROTOCOL.md §1.1, §1.2,
// §1.6, §2.2 and §12 — no Go output other than that JSON text is used as
// input. The Go-written cbor_hex, id and signing_hex are only compared
// against:
//
//   1. JSON -> DAG-CBOR data model (byte arrays -> Uint8Array, IDs -> CID
//      links, defaults the reference never writes are dropped, sig.sig stays
//      text, SigKey stays externally tagged, list order kept as given);
//   2. @ipld/dag-cbor encode, compared with cbor_hex;
//   3. BLAKE3-256 (@noble/hashes) -> CIDv1 dag-cbor (multiformats), compared
//      with id;
//   4. cbor_hex decoded and re-encoded by @ipld/dag-cbor must be identical
//      (the Go bytes are canonical DAG-CBOR);
//   5. signed entries: the model without sig.sig encodes to signing_hex, and
//      the signature verifies with @noble/curves ed25519 under public_key;
//   6. same_as: the named vector has the same bytes and ID.
//
// Then negative self-tests show the script can fail.
//
// Usage: node crosscheck.mjs ../vectors.json
// Prints one line per vector and ends with "crosscheck: N passed, M failed"
// (N, M count vectors; a failing self-test, or reading fewer than
// MIN_VECTORS vectors, also counts in M). Exits non-zero
// on any failure or if fewer than MIN_VECTORS vectors were read.

import { readFileSync } from 'node:fs'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { create as createDigest } from 'multiformats/hashes/digest'
import { base64pad } from 'multiformats/bases/base64'
import { toHex, fromHex, equals } from 'multiformats/bytes'
import { blake3 } from '@noble/hashes/blake3.js'
import { ed25519 } from '@noble/curves/ed25519.js'

const MIN_VECTORS = 12
const DAG_CBOR = 0x71
const BLAKE3_256 = 0x1e
const PUBKEY_PREFIX = 'ed25519:'

class CheckError extends Error {}
const fail = (msg) => { throw new CheckError(msg) }

// ---------------------------------------------------------------------------
// A strict JSON reader. JSON.parse would silently round integers above 2^53
// (tree.h and store h are u64), so integers outside the safe range become
// BigInt. Non-integer numbers and duplicate keys are refused: no entry field
// holds either, and serde refuses duplicate struct fields.

function parseJSON (text) {
  let i = 0
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i])) i++ }
  const err = (m) => fail(`JSON: ${m} at offset ${i}`)
  const numRe = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y

  function value () {
    ws()
    const c = text[i]
    if (c === '{') return object()
    if (c === '[') return array()
    if (c === '"') return string()
    for (const [lit, v] of [['true', true], ['false', false], ['null', null]]) {
      if (text.startsWith(lit, i)) { i += lit.length; return v }
    }
    if (c === '-' || (c >= '0' && c <= '9')) return number()
    return err(`unexpected ${c === undefined ? 'end' : JSON.stringify(c)}`)
  }
  function object () {
    i++
    const o = {}
    ws()
    if (text[i] === '}') { i++; return o }
    for (;;) {
      ws()
      if (text[i] !== '"') err('expected key')
      const k = string()
      if (Object.prototype.hasOwnProperty.call(o, k)) err(`duplicate key ${JSON.stringify(k)}`)
      ws()
      if (text[i++] !== ':') err('expected :')
      Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true })
      ws()
      const c = text[i++]
      if (c === '}') return o
      if (c !== ',') err('expected , or }')
    }
  }
  function array () {
    i++
    const a = []
    ws()
    if (text[i] === ']') { i++; return a }
    for (;;) {
      a.push(value())
      ws()
      const c = text[i++]
      if (c === ']') return a
      if (c !== ',') err('expected , or ]')
    }
  }
  function string () {
    const start = i++
    while (i < text.length && text[i] !== '"') {
      if (text.charCodeAt(i) < 0x20) err('control character in string')
      i += text[i] === '\\' ? 2 : 1
    }
    if (i >= text.length) err('unterminated string')
    i++
    return JSON.parse(text.slice(start, i)) // escapes only
  }
  function number () {
    numRe.lastIndex = i
    const m = numRe.exec(text)
    if (!m) err('bad number')
    if (m[1] !== undefined || m[2] !== undefined) err(`non-integer number ${m[0]}`)
    i = numRe.lastIndex
    const n = BigInt(m[0])
    return (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) ? Number(n) : n
  }

  const v = value()
  ws()
  if (i !== text.length) err('trailing data')
  return v
}

// ---------------------------------------------------------------------------
// v0 JSON -> DAG-CBOR data model (PROTOCOL.md §1.1, §1.2, §1.6, §2.2, §12).
// Unknown fields are refused: a golden vector carrying one would be a bug.

const isObj = (x) => x !== null && typeof x === 'object' && !Array.isArray(x)

function fields (o, path, allowed) {
  if (!isObj(o)) fail(`${path}: expected an object`)
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) fail(`${path}: unexpected field ${JSON.stringify(k)}`)
  }
}

function required (o, path, k) {
  if (!(k in o) || o[k] === null) fail(`${path}.${k}: required field missing`)
  return o[k]
}

function isU64 (x) {
  if (typeof x === 'number') return Number.isInteger(x) && x >= 0
  if (typeof x === 'bigint') return x >= 0n && x < (1n << 64n)
  return false
}

// An ID in JSON is its string form; in DAG-CBOR a CID link. The empty ID
// prints as "" and would be CBOR null (§1.2).
function toID (s, path) {
  if (typeof s !== 'string') fail(`${path}: ID must be a string`)
  if (s === '') return null
  let cid
  try { cid = CID.parse(s) } catch (e) { fail(`${path}: bad ID ${JSON.stringify(s)}: ${e.message}`) }
  if (cid.toString() !== s) fail(`${path}: ID ${s} is not in canonical form (${cid.toString()})`)
  return cid
}

function toIDList (a, path) {
  if (!Array.isArray(a)) fail(`${path}: expected an array of IDs`)
  return a.map((s, i) => toID(s, `${path}[${i}]`))
}

// Byte payloads travel as JSON arrays of integers 0-255 (§2.2, §12.1).
function toBytes (a, path) {
  if (!Array.isArray(a)) fail(`${path}: byte payload must be an array of integers`)
  const out = new Uint8Array(a.length)
  a.forEach((b, i) => {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > 255) fail(`${path}[${i}]: not a byte: ${b}`)
    out[i] = b
  })
  return out
}

function toTree (t, path) {
  fields(t, path, ['root', 'parents', 'metadata', 'h'])
  const out = {}
  if (t.root !== undefined && t.root !== null) out.root = toID(t.root, `${path}.root`)
  out.parents = toIDList(required(t, path, 'parents'), `${path}.parents`)
  if (t.metadata !== undefined && t.metadata !== null) out.metadata = toBytes(t.metadata, `${path}.metadata`)
  if (t.h !== undefined && t.h !== null) {
    if (!isU64(t.h)) fail(`${path}.h: not a u64: ${t.h}`)
    if (t.h !== 0) out.h = t.h // tree h is skipped when 0
  }
  return out
}

function toStore (s, path) {
  fields(s, path, ['name', 'parents', 'data', 'h'])
  const out = {}
  const name = required(s, path, 'name')
  if (typeof name !== 'string') fail(`${path}.name: must be a string`)
  out.name = name
  out.parents = toIDList(required(s, path, 'parents'), `${path}.parents`)
  if (s.data !== undefined && s.data !== null) out.data = toBytes(s.data, `${path}.data`)
  if (s.h !== undefined && s.h !== null) {
    if (!isU64(s.h)) fail(`${path}.h: not a u64: ${s.h}`)
    out.h = s.h // store h: Some(0) is written, only None is skipped
  }
  return out
}

function toHint (h, path) {
  fields(h, path, ['pubkey', 'name', 'is_global'])
  const out = {}
  if (h.pubkey !== undefined && h.pubkey !== null) {
    if (typeof h.pubkey !== 'string') fail(`${path}.pubkey: must be a string`)
    out.pubkey = h.pubkey // a PublicKey is its string form, not bytes
  }
  if (h.name !== undefined && h.name !== null) {
    if (typeof h.name !== 'string') fail(`${path}.name: must be a string`)
    out.name = h.name
  }
  if (h.is_global !== undefined && h.is_global !== null) {
    if (typeof h.is_global !== 'boolean') fail(`${path}.is_global: must be a boolean`)
    if (h.is_global) out.is_global = true // omitted when false
  }
  return out
}

// SigKey is externally tagged: {"Direct":{"hint":…}} or
// {"Delegation":{"path":[…],"hint":…}}.
function toSigKey (k, path) {
  if (!isObj(k) || Object.keys(k).length !== 1) fail(`${path}: SigKey must be a one-entry map {variant: value}`)
  const [variant] = Object.keys(k)
  const body = k[variant]
  const p = `${path}.${variant}`
  if (variant === 'Direct') {
    fields(body, p, ['hint'])
    return { Direct: { hint: toHint(required(body, p, 'hint'), `${p}.hint`) } }
  }
  if (variant === 'Delegation') {
    fields(body, p, ['path', 'hint'])
    const steps = required(body, p, 'path')
    if (!Array.isArray(steps)) fail(`${p}.path: expected an array`)
    return {
      Delegation: {
        path: steps.map((st, i) => {
          const sp = `${p}.path[${i}]`
          fields(st, sp, ['tree', 'tips'])
          return { tree: toID(required(st, sp, 'tree'), `${sp}.tree`), tips: toIDList(required(st, sp, 'tips'), `${sp}.tips`) }
        }),
        hint: toHint(required(body, p, 'hint'), `${p}.hint`)
      }
    }
  }
  return fail(`${path}: unknown SigKey variant ${JSON.stringify(variant)}`)
}

function toSig (s, path) {
  fields(s, path, ['sig', 'key'])
  const out = {}
  if (s.sig !== undefined && s.sig !== null) {
    if (typeof s.sig !== 'string') fail(`${path}.sig: must be base64 text`)
    out.sig = s.sig // base64 TEXT inside the hashed CBOR (§12.5)
  }
  out.key = toSigKey(required(s, path, 'key'), `${path}.key`)
  return out
}

function toEntry (e) {
  fields(e, 'entry', ['_v', 'tree', 'subtrees', 'sig'])
  if (e._v !== undefined && e._v !== 0) fail(`entry._v: unsupported Entry version ${e._v}`)
  const subtrees = required(e, 'entry', 'subtrees')
  if (!Array.isArray(subtrees)) fail('entry.subtrees: expected an array')
  return {
    tree: toTree(required(e, 'entry', 'tree'), 'tree'),
    subtrees: subtrees.map((s, i) => toStore(s, `subtrees[${i}]`)),
    sig: toSig(required(e, 'entry', 'sig'), 'sig')
  }
}

// ---------------------------------------------------------------------------

function entryID (bytes) {
  const digest = createDigest(BLAKE3_256, blake3(bytes, { dkLen: 32 }))
  return CID.create(1, DAG_CBOR, digest)
}

function diffHex (label, got, want) {
  let i = 0
  while (i < got.length && i < want.length && got[i] === want[i]) i++
  const ctx = (b) => toHex(b.subarray(Math.max(0, i - 8), i + 16))
  return `${label} differs at byte ${i} (js ${got.length} bytes, go ${want.length} bytes): ` +
    `js …${ctx(got)}… go …${ctx(want)}… (window starts at byte ${Math.max(0, i - 8)})`
}

function decodePublicKey (s) {
  if (typeof s !== 'string' || !s.startsWith(PUBKEY_PREFIX)) fail(`public key ${JSON.stringify(s)} lacks ${PUBKEY_PREFIX}`)
  const b64 = s.slice(PUBKEY_PREFIX.length)
  let key
  try { key = base64pad.baseDecode(b64) } catch (e) { fail(`public key ${s}: bad base64: ${e.message}`) }
  if (key.length !== 32) fail(`public key ${s}: ${key.length} bytes, want 32`)
  if (base64pad.baseEncode(key) !== b64) fail(`public key ${s}: not canonical padded base64`)
  return key
}

function decodeSignature (s) {
  let sig
  try { sig = base64pad.baseDecode(s) } catch (e) { fail(`sig.sig: bad base64: ${e.message}`) }
  if (sig.length !== 64) fail(`sig.sig: ${sig.length} bytes, want 64`)
  if (base64pad.baseEncode(sig) !== s) fail('sig.sig: not canonical padded base64')
  return sig
}

function checkVector (v, byName) {
  for (const k of ['name', 'json', 'cbor_hex', 'id']) {
    if (typeof v[k] !== 'string' || v[k] === '') fail(`vector field ${k} missing`)
  }

  // 1. independent conversion from the v0 JSON text
  const model = toEntry(parseJSON(v.json))

  // 2. DAG-CBOR encoding vs cbor_hex
  const bytes = dagCbor.encode(model)
  const goBytes = fromHex(v.cbor_hex)
  if (!equals(bytes, goBytes)) fail(diffHex('cbor_hex', bytes, goBytes))

  // 3. ID = CIDv1(dag-cbor, blake3-256) of the bytes js encoded itself
  const cid = entryID(bytes)
  const idStr = cid.toString()
  if (!idStr.startsWith('bafyr4i')) fail(`js ID ${idStr} does not start with bafyr4i`)
  if (idStr !== v.id) fail(`id: js ${idStr}, go ${v.id}`)
  const goCid = CID.parse(v.id)
  if (goCid.version !== 1 || goCid.code !== DAG_CBOR || goCid.multihash.code !== BLAKE3_256 || goCid.multihash.size !== 32) {
    fail(`id ${v.id}: not CIDv1/dag-cbor/blake3-256`)
  }

  // 4. the Go bytes are canonical: decode + re-encode is the identity
  const reencoded = dagCbor.encode(dagCbor.decode(goBytes))
  if (!equals(reencoded, goBytes)) fail(diffHex('decode/re-encode of cbor_hex', reencoded, goBytes))

  // 5. signing bytes and signature
  if (model.sig.sig !== undefined) {
    if (typeof v.signing_hex !== 'string' || typeof v.public_key !== 'string') fail('signed entry lacks signing_hex or public_key')
    const unsigned = { ...model, sig: { key: model.sig.key } }
    const signing = dagCbor.encode(unsigned)
    const goSigning = fromHex(v.signing_hex)
    if (!equals(signing, goSigning)) fail(diffHex('signing_hex', signing, goSigning))
    const pub = decodePublicKey(v.public_key)
    const hint = (model.sig.key.Direct ?? model.sig.key.Delegation).hint
    if (hint.pubkey !== undefined && hint.pubkey !== v.public_key) fail(`hint pubkey ${hint.pubkey} is not public_key ${v.public_key}`)
    if (!ed25519.verify(decodeSignature(model.sig.sig), signing, pub)) fail(`ed25519 signature does not verify under ${v.public_key}`)
  } else if (v.signing_hex !== undefined || v.public_key !== undefined) {
    fail('unsigned entry carries signing_hex/public_key')
  }

  // 6. same_as
  if (v.same_as !== undefined) {
    const o = byName.get(v.same_as)
    if (!o) fail(`same_as ${v.same_as}: no such vector`)
    if (o.cbor_hex !== v.cbor_hex || o.id !== v.id) fail(`same_as ${v.same_as}: bytes or ID differ`)
  }
  return idStr
}

// ---------------------------------------------------------------------------
// Negative self-tests: a changed input must change the result.

function selfTests (vectors) {
  const results = []
  const run = (name, fn) => {
    try {
      fn()
      results.push([true, `ok selftest ${name}`])
    } catch (e) {
      results.push([false, `FAIL selftest ${name}: ${e.message}`])
    }
  }

  run('mutated data byte changes the ID', () => {
    const v = vectors.find((x) => parseJSON(x.json).subtrees?.some((s) => Array.isArray(s.data) && s.data.length > 0))
    if (!v) fail('no vector with store data to mutate')
    const json = parseJSON(v.json)
    const store = json.subtrees.find((s) => Array.isArray(s.data) && s.data.length > 0)
    store.data[0] ^= 0x01
    let detected = false
    try {
      const text = JSON.stringify(json, (_, x) => typeof x === 'bigint' ? `__u64_${x}` : x).replace(/"__u64_(\d+)"/g, '$1')
      checkVector({ ...v, json: text }, new Map())
    } catch (e) {
      if (!(e instanceof CheckError)) throw e
      detected = true
    }
    if (!detected) fail(`vector ${v.name} still passed with store ${store.name} data[0] flipped`)
    const id = entryID(dagCbor.encode(toEntry(json))).toString()
    if (id === v.id) fail(`vector ${v.name}: ID unchanged after mutating a data byte`)
  })

  run('swapped parents change the ID', () => {
    const v = vectors.find((x) => parseJSON(x.json).tree.parents.length > 1)
    if (!v) fail('no vector with two parents')
    const json = parseJSON(v.json)
    json.tree.parents.reverse()
    const id = entryID(dagCbor.encode(toEntry(json))).toString()
    if (id === v.id) fail(`vector ${v.name}: ID unchanged after reversing parents`)
  })

  run('tampered signature does not verify', () => {
    const v = vectors.find((x) => typeof x.signing_hex === 'string')
    if (!v) fail('no signed vector')
    const sig = decodeSignature(parseJSON(v.json).sig.sig)
    sig[0] ^= 0x01
    if (ed25519.verify(sig, fromHex(v.signing_hex), decodePublicKey(v.public_key))) fail(`vector ${v.name}: flipped signature still verifies`)
  })

  return results
}

// ---------------------------------------------------------------------------

function main () {
  const path = process.argv[2] ?? '../vectors.json'
  if (dagCbor.code !== DAG_CBOR) throw new Error(`@ipld/dag-cbor code is ${dagCbor.code}`)

  let vectors
  try {
    const file = JSON.parse(readFileSync(path, 'utf8'))
    vectors = file.vectors
    if (!Array.isArray(vectors)) throw new Error('no "vectors" array')
  } catch (e) {
    console.log(`FAIL reading ${path}: ${e.message}`)
    console.log('crosscheck: 0 passed, 1 failed')
    return 2
  }

  const byName = new Map(vectors.map((v) => [v.name, v]))
  let passed = 0
  let failed = 0
  const seen = new Set()
  for (const v of vectors) {
    const name = v?.name ?? '(unnamed)'
    try {
      if (seen.has(name)) fail('duplicate vector name')
      seen.add(name)
      const id = checkVector(v, byName)
      console.log(`ok ${name} ${id}`)
      passed++
    } catch (e) {
      console.log(`FAIL ${name}: ${e instanceof CheckError ? e.message : e.stack}`)
      failed++
    }
  }

  for (const [ok, line] of selfTests(vectors)) {
    console.log(line)
    if (!ok) failed++
  }

  let rc = 0
  if (vectors.length < MIN_VECTORS) {
    console.log(`FAIL only ${vectors.length} vectors read, want at least ${MIN_VECTORS}`)
    failed++
    rc = 1
  }
  if (failed > 0) rc = 1
  console.log(`crosscheck: ${passed} passed, ${failed} failed`)
  return rc
}

process.exitCode = main()
