// An independent SMSC for Heliograph's SMPP tests, built on the npm `smpp` package's server.
//
//   node smsc.mjs --port 2775 --control-port 8775 [--account id:password ...]
//
// It is a peer, not a mock of Heliograph's classes: it speaks SMPP 3.4 over TCP as the npm package
// implements it, and offers a small JSON control API on the second port (see tests/smsc_support.py,
// which documents every route). Receipts and MOs owed while no ESME is bound are kept and delivered
// on the next bind; a deliver_sm answered with a non-OK status (or not answered before the connection
// closed) is delivered again, as real SMSCs do.

import fs from 'node:fs';
import http from 'node:http';
import smpp from 'smpp';

const args = process.argv.slice(2);
function arg(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
}
const port = Number(arg('--port', '2775'));
const controlPort = Number(arg('--control-port', '8775'));

const accounts = new Map();
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--account') {
    const [id, ...pw] = args[i + 1].split(':');
    accounts.set(id, pw.join(':'));
  }
}

const defaults = () => ({
  bare_bind_refusal: true, // a refused bind is a bare 16-byte header (no system_id body)
  receipts: true, // receipts for registered_delivery=1
  receipt_delay_ms: 200,
  shuffle: false, // random delay in [0, 2 x receipt_delay_ms]: receipts overtake each other
  duplicate: false, // every receipt is sent twice
  enroute_first: false, // ENROUTE at the delay, then the final state at twice the delay
  receipt_text: true, // `id:… stat:…` text in short_message
  receipt_tlvs: true, // receipted_message_id + message_state TLVs
  undeliverable: [], // destination numbers (digits, with or without +) whose receipts say UNDELIV
  submit_errors: {}, // destination number -> command_status answered to its submit_sm
  throttle_status: 0x58, // ESME_RTHROTTLED; 0x14 = ESME_RMSGQFUL
  mute_submit_resp: false, // log submit_sm but never answer it
  redeliver_delay_ms: 300, // before a refused deliver_sm goes again
});
let config = defaults();
let throttleUntil = 0;

const log = { binds: [], submits: [], deliver_sm_resps: [], enquire_links: 0 };
let nextId = 0x1a2b3c00;
let nextMoRef = 1;

// Owed deliver_sm: {key, system_id, kind, options, session (while in flight), due}
const owed = [];
let ownKey = 0;

const digits = (n) => String(n || '').replace(/^\+/, '');
const now = () => Date.now();

function smscTime(date) {
  const p = (n) => String(n).padStart(2, '0');
  return (
    p(date.getUTCFullYear() % 100) + p(date.getUTCMonth() + 1) + p(date.getUTCDate()) + p(date.getUTCHours()) + p(date.getUTCMinutes())
  );
}

const STATE_VALUES = { ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8 };

function receiptOptions(submit, messageId, stat, submittedAt) {
  const err = stat === 'UNDELIV' ? '001' : '000';
  const dlvrd = stat === 'DELIVRD' ? '001' : '000';
  const text =
    `id:${messageId} sub:001 dlvrd:${dlvrd} submit date:${smscTime(submittedAt)} done date:${smscTime(new Date())} ` +
    `stat:${stat} err:${err} text:${String(submit.text || '').slice(0, 20)}`;
  const options = {
    source_addr_ton: submit.dest_addr_ton,
    source_addr_npi: submit.dest_addr_npi,
    source_addr: submit.destination_addr,
    dest_addr_ton: submit.source_addr_ton,
    dest_addr_npi: submit.source_addr_npi,
    destination_addr: submit.source_addr,
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(config.receipt_text ? text : '', 'latin1'),
  };
  if (config.receipt_tlvs) {
    options.receipted_message_id = messageId;
    options.message_state = STATE_VALUES[stat];
  }
  return options;
}

function owe(systemId, kind, options, delayMs, meta = {}) {
  owed.push({ key: ++ownKey, system_id: systemId, kind, options, session: null, due: now() + delayMs, ...meta });
  setTimeout(pump, delayMs + 1);
}

const sessionsBound = new Set();

function pump() {
  const t = now();
  for (const item of owed) {
    if (item.session || item.due > t) continue;
    const candidates = [...sessionsBound].filter((s) => !item.system_id || s.system_id === item.system_id);
    if (candidates.length === 0) continue; // kept until an ESME binds again
    const session = candidates[item.key % candidates.length];
    item.session = session;
    session.inflight.add(item);
    const sent = session.deliver_sm(item.options, (resp) => {
      session.inflight.delete(item);
      log.deliver_sm_resps.push({
        kind: item.kind,
        message_id: item.message_id || null,
        stat: item.stat || null,
        mo_id: item.mo_id || null,
        command_status: resp.command_status,
        at: now(),
      });
      if (resp.command_status === 0) {
        owed.splice(owed.indexOf(item), 1);
      } else {
        item.session = null;
        item.due = now() + config.redeliver_delay_ms;
        setTimeout(pump, config.redeliver_delay_ms + 1);
      }
    });
    if (!sent) {
      session.inflight.delete(item);
      item.session = null;
    }
  }
}

function udhHex(shortMessage) {
  if (!shortMessage || !shortMessage.udh) return null;
  const ies = Buffer.concat(shortMessage.udh);
  return Buffer.concat([Buffer.from([ies.length]), ies]).toString('hex');
}

function handleSubmit(session, pdu) {
  if (!session.system_id) {
    session.send(pdu.response({ command_status: smpp.ESME_RINVBNDSTS }));
    return;
  }
  const sm = pdu.short_message || {};
  const entry = {
    system_id: session.system_id,
    source_addr: pdu.source_addr,
    source_addr_ton: pdu.source_addr_ton,
    source_addr_npi: pdu.source_addr_npi,
    destination_addr: pdu.destination_addr,
    dest_addr_ton: pdu.dest_addr_ton,
    dest_addr_npi: pdu.dest_addr_npi,
    data_coding: pdu.data_coding,
    esm_class: pdu.esm_class,
    registered_delivery: pdu.registered_delivery,
    udh: udhHex(sm),
    text: typeof sm.message === 'string' ? sm.message : Buffer.isBuffer(sm.message) ? sm.message.toString('hex') : null,
    message_id: null,
    command_status: 0,
    at: now(),
  };
  log.submits.push(entry);
  if (config.mute_submit_resp) return;
  if (now() < throttleUntil) {
    entry.command_status = config.throttle_status;
    session.send(pdu.response({ command_status: config.throttle_status }));
    return;
  }
  const refusal = config.submit_errors[digits(pdu.destination_addr)] ?? config.submit_errors['+' + digits(pdu.destination_addr)];
  if (refusal) {
    entry.command_status = refusal;
    session.send(pdu.response({ command_status: refusal }));
    return;
  }
  const messageId = (nextId++).toString(16);
  entry.message_id = messageId;
  session.send(pdu.response({ message_id: messageId }));
  if (!(config.receipts && pdu.registered_delivery & 0x01)) return;
  const submittedAt = new Date();
  const undeliverable = config.undeliverable.map(digits).includes(digits(pdu.destination_addr));
  const stat = undeliverable ? 'UNDELIV' : 'DELIVRD';
  const delay = () => (config.shuffle ? Math.floor(Math.random() * 2 * config.receipt_delay_ms) : config.receipt_delay_ms);
  const copies = config.duplicate ? 2 : 1;
  for (let c = 0; c < copies; c++) {
    if (config.enroute_first) {
      owe(session.system_id, 'receipt', receiptOptions(entry, messageId, 'ENROUTE', submittedAt), delay(), {
        message_id: messageId,
        stat: 'ENROUTE',
      });
      owe(session.system_id, 'receipt', receiptOptions(entry, messageId, stat, submittedAt), 2 * config.receipt_delay_ms + delay(), {
        message_id: messageId,
        stat,
      });
    } else {
      owe(session.system_id, 'receipt', receiptOptions(entry, messageId, stat, submittedAt), delay(), { message_id: messageId, stat });
    }
  }
}

function refuseBind(session, pdu) {
  if (config.bare_bind_refusal) {
    session.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL })); // the package sends a bare header
  } else {
    const body = Buffer.from('smsc\0', 'latin1');
    const header = Buffer.alloc(16);
    header.writeUInt32BE(16 + body.length, 0);
    header.writeUInt32BE((pdu.command_id | 0x80000000) >>> 0, 4);
    header.writeUInt32BE(smpp.ESME_RBINDFAIL, 8);
    header.writeUInt32BE(pdu.sequence_number, 12);
    session.socket.write(Buffer.concat([header, body]));
  }
  setTimeout(() => session.close(), 50);
}

// --tls-key / --tls-cert: the SMPP port speaks TLS (the control port stays plain HTTP)
const tlsOptions = arg('--tls-key') ? { key: fs.readFileSync(arg('--tls-key')), cert: fs.readFileSync(arg('--tls-cert')) } : {};

const server = smpp.createServer(tlsOptions, (session) => {
  session.inflight = new Set();
  session.on('error', () => {});
  for (const command of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
    session.on(command, (pdu) => {
      const ok = accounts.has(pdu.system_id) && accounts.get(pdu.system_id) === pdu.password;
      log.binds.push({ system_id: pdu.system_id, command, ok, at: now() });
      if (!ok) {
        refuseBind(session, pdu);
        return;
      }
      session.system_id = pdu.system_id;
      session.send(pdu.response({ system_id: 'heliograph-test-smsc' }));
      sessionsBound.add(session);
      setTimeout(pump, 1);
    });
  }
  session.on('submit_sm', (pdu) => handleSubmit(session, pdu));
  session.on('enquire_link', (pdu) => {
    log.enquire_links++;
    session.send(pdu.response());
  });
  session.on('unbind', (pdu) => {
    sessionsBound.delete(session);
    session.send(pdu.response());
    setTimeout(() => session.close(), 10);
  });
  session.on('unknown', (pdu) => session.send(pdu.response()));
  session.on('close', () => {
    sessionsBound.delete(session);
    for (const item of session.inflight) item.session = null; // owed again: redelivered on a bind
    session.inflight.clear();
    setTimeout(pump, 1);
  });
});

let listening = false;
function startListening(cb) {
  server.listen(port, '127.0.0.1', () => {
    listening = true;
    if (cb) cb();
  });
}
function dropAll() {
  for (const s of [...server.sessions]) s.destroy();
}

function splitText(text, parts) {
  const chars = Array.from(text);
  const size = Math.ceil(chars.length / parts);
  const out = [];
  for (let i = 0; i < parts; i++) out.push(chars.slice(i * size, (i + 1) * size).join(''));
  return out;
}

// MO from a handset: {from, to, text, coding: gsm7|ucs2, parts: 1|n, concat: udh|udh16|sar, order: [seq...], system_id}
function injectMo(body) {
  const parts = Number(body.parts || 1);
  const coding = body.coding === 'ucs2' ? 8 : 0;
  const concat = body.concat || 'udh';
  const ref = nextMoRef++ % 256;
  const chunks = splitText(body.text, parts);
  const order = body.order || chunks.map((_, i) => i + 1);
  const moId = `mo-${ref}-${now()}`;
  const from = digits(body.from);
  const to = digits(body.to);
  const fromIntl = String(body.from).startsWith('+');
  for (const seq of order) {
    const message = chunks[seq - 1];
    const options = {
      source_addr_ton: fromIntl ? 1 : 0,
      source_addr_npi: fromIntl ? 1 : 0,
      source_addr: from,
      dest_addr_ton: String(body.to).startsWith('+') ? 1 : 0,
      dest_addr_npi: 1,
      destination_addr: to,
      esm_class: 0,
      data_coding: coding,
    };
    if (parts > 1 && concat === 'sar') {
      options.short_message = message;
      options.sar_msg_ref_num = ref;
      options.sar_total_segments = parts;
      options.sar_segment_seqnum = seq;
    } else if (parts > 1) {
      const udh = concat === 'udh16' ? Buffer.from([6, 8, 4, 0x12, ref, parts, seq]) : Buffer.from([5, 0, 3, ref, parts, seq]);
      options.short_message = { udh, message };
    } else {
      options.short_message = message;
    }
    owe(body.system_id || null, 'mo', options, 0, { mo_id: moId });
  }
  return moId;
}

function readJson(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      try {
        resolve(data ? JSON.parse(data) : {});
      } catch {
        resolve({});
      }
    });
  });
}

const control = http.createServer(async (req, res) => {
  const body = req.method === 'POST' ? await readJson(req) : {};
  const reply = (status, value) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const path = req.url.split('?')[0];
  switch (`${req.method} ${path}`) {
    case 'GET /health':
      return reply(200, { ok: true, listening });
    case 'GET /state':
      return reply(200, {
        listening,
        bound: [...sessionsBound].map((s) => s.system_id),
        connections: server.sessions.length,
        owed: owed.length,
        owed_receipts: owed.filter((o) => o.kind === 'receipt').length,
      });
    case 'GET /log':
      return reply(200, log);
    case 'POST /log/clear':
      log.binds = [];
      log.submits = [];
      log.deliver_sm_resps = [];
      log.enquire_links = 0;
      return reply(200, { ok: true });
    case 'GET /config':
      return reply(200, config);
    case 'POST /config':
      config = { ...config, ...body };
      return reply(200, config);
    case 'POST /config/reset':
      config = defaults();
      throttleUntil = 0;
      return reply(200, config);
    case 'POST /accounts':
      accounts.set(body.system_id, body.password);
      return reply(200, { ok: true });
    case 'POST /throttle':
      throttleUntil = now() + Number(body.seconds || 0) * 1000;
      if (body.status) config.throttle_status = body.status;
      return reply(200, { until: throttleUntil });
    case 'POST /mo':
      return reply(200, { mo_id: injectMo(body) });
    case 'POST /drop':
      dropAll();
      return reply(200, { ok: true });
    case 'POST /stop':
      if (!listening) return reply(200, { ok: true });
      listening = false;
      server.close();
      dropAll();
      return reply(200, { ok: true });
    case 'POST /start':
      if (listening) return reply(200, { ok: true });
      return startListening(() => reply(200, { ok: true }));
    default:
      return reply(404, { error: `no route ${req.method} ${path}` });
  }
});

startListening(() => {
  control.listen(controlPort, '127.0.0.1', () => {
    console.log(`smsc listening on ${port}, control on ${controlPort}`);
  });
});
