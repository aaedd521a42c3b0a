// The Telnyx JS messaging guide's examples, run with the official SDK against Heliograph.
// Numbers and ids are swapped for the sandbox account's (env); everything else is as the guide writes it,
// including its mistakes (camelCase `sendAt`). Prints one JSON line per example for the Python test to check.
import http from 'node:http';
import Telnyx from 'telnyx';

const env = process.env;
const client = new Telnyx({ maxRetries: 0 }); // TELNYX_BASE_URL, TELNYX_API_KEY, TELNYX_PUBLIC_KEY
const [longCode, tollFree] = env.SANDBOX_NUMBERS.split(',');
const profileId = env.SANDBOX_PROFILE_ID;
const out = (name, value) => console.log(JSON.stringify({ name, ...value }));

async function attempt(name, fn) {
  try {
    out(name, { ok: true, result: await fn() });
  } catch (err) {
    if (err instanceof Telnyx.APIError) {
      out(name, { ok: false, status: err.status, error: err.error, warning: (err.headers?.get ? err.headers.get('x-heliograph-warning') : err.headers?.['x-heliograph-warning']) ?? null });
    } else {
      out(name, { ok: false, crash: String(err) });
    }
  }
}

// a webhook receiver that verifies every webhook the way the guide's Express handler does
const verified = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    try {
      const event = await client.webhooks.unwrap(Buffer.concat(chunks).toString(), { headers: req.headers });
      verified.push(event.data.event_type ?? event.data.record_type);
      res.writeHead(200).end('OK');
    } catch (err) {
      verified.push(`INVALID: ${err.message}`);
      res.writeHead(400).end('Invalid signature');
    }
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const hook = `http://127.0.0.1:${server.address().port}/webhooks`;
await client.messagingProfiles.update(profileId, { webhook_url: hook });

let sent;
await attempt('send', async () => {
  const response = await client.messages.send({ to: '+18445550001', from: longCode, text: 'Hello from Telnyx!' });
  sent = response.data;
  return { id: response.data.id, status: response.data.to[0].status, from: response.data.from.phone_number };
});
await attempt('alphanumericSenderIDs.create', async () => {
  const response = await client.alphanumericSenderIDs.create({ alphanumeric_sender_id: 'MyCompany', messaging_profile_id: profileId });
  return { id: response.data.id, value: response.data.alphanumeric_sender_id };
});
await attempt('sendWithAlphanumericSender', async () => {
  const response = await client.messages.sendWithAlphanumericSender({
    from: 'MyCompany', messaging_profile_id: profileId, text: 'Hello from Telnyx!', to: '+447700900123',
  });
  return { from: response.data.from.phone_number, status: response.data.to[0].status };
});
let group;
await attempt('sendGroupMms', async () => {
  const response = await client.messages.sendGroupMms({ from: longCode, to: ['+18655551234', '+14155551234'], text: 'Hello from Telnyx!' });
  group = response.data.id;
  return { type: response.data.type, to: response.data.to.map((t) => t.phone_number) };
});
await attempt('retrieveGroupMessages', async () => {
  const response = await client.messages.retrieveGroupMessages(group);
  return { count: response.data.length };
});
await attempt('sendLongCode', async () => {
  const response = await client.messages.sendLongCode({ from: tollFree, to: '+13125550002', text: 'Hello from Telnyx!' });
  return { from: response.data.from.phone_number };
});
await attempt('sendNumberPool.disabled', async () => {
  const response = await client.messages.sendNumberPool({ messaging_profile_id: profileId, to: '+13125550002', text: 'Hello from Telnyx!' });
  return { from: response.data.from.phone_number };
});
await client.messagingProfiles.update(profileId, { number_pool_settings: { long_code_weight: 1, toll_free_weight: 1 } });
await attempt('sendNumberPool', async () => {
  const response = await client.messages.sendNumberPool({ messaging_profile_id: profileId, to: '+13125550002', text: 'Hello from Telnyx!' });
  return { from: response.data.from.phone_number };
});
// the guide sends a short-code message from a toll-free number: Telnyx refuses that, and so do we
await attempt('sendShortCode', async () => {
  const response = await client.messages.sendShortCode({ from: '+18445550001', to: '+18445550001', text: 'Hello from Telnyx!' });
  return { id: response.data.id };
});
// the guide's `sendAt` is camelCase: the API ignores it, so /messages/schedule has no send_at
await attempt('schedule.sendAt', async () => {
  const response = await client.messages.schedule({ to: '+18445550001', from: longCode, text: 'Appointment reminder', sendAt: '2025-07-01T15:00:00Z' });
  return { id: response.data.id };
});
let scheduled;
await attempt('schedule', async () => {
  const sendAt = new Date(Date.now() + 3600_000).toISOString();
  const response = await client.messages.schedule({ to: '+18445550001', from: longCode, text: 'Appointment reminder', send_at: sendAt });
  scheduled = response.data.id;
  return { status: response.data.to[0].status };
});
await attempt('cancelScheduled', async () => {
  const response = await client.messages.cancelScheduled(scheduled);
  return { status: response.to[0].status };
});
await attempt('whatsapp', async () => {
  const response = await client.messages.whatsapp({ from: longCode, to: '+13125550002', whatsapp_message: { type: 'text', text: { body: 'hi' } } });
  return { type: response.data.type };
});
await attempt('retrieve', async () => {
  for (let i = 0; i < 100; i++) {
    const response = await client.messages.retrieve(sent.id);
    if (response.data.to[0].status === 'delivered') return { status: 'delivered', sentAt: response.data.sent_at };
    await new Promise((r) => setTimeout(r, 100));
  }
  return { status: 'not delivered' };
});
await attempt('alphanumericSenderIDs.list', async () => {
  const ids = [];
  for await (const item of client.alphanumericSenderIDs.list()) ids.push(item.alphanumeric_sender_id);
  return { ids };
});
await attempt('messagingProfiles.listAlphanumericSenderIDs', async () => {
  const ids = [];
  for await (const item of client.messagingProfiles.listAlphanumericSenderIDs(profileId)) ids.push(item.alphanumeric_sender_id);
  return { ids };
});
await attempt('messagingHostedNumbers.list', async () => {
  const numbers = [];
  for await (const item of client.messagingHostedNumbers.list()) numbers.push(item.phone_number);
  return { numbers };
});
await attempt('messagingOptouts.list', async () => {
  const rules = [];
  for await (const item of client.messagingOptouts.list()) rules.push(item.to);
  return { rules };
});
await attempt('messagingProfileMetrics.list', async () => {
  const response = await client.messagingProfileMetrics.list({ time_frame: '1h' });
  return { profiles: response.data.length };
});
await attempt('messagingProfiles.retrieveMetrics', async () => {
  const response = await client.messagingProfiles.retrieveMetrics(profileId, { time_frame: '1h' });
  return { sent: response.data.overview.outbound.sent };
});
await attempt('messagingProfiles.actions.regenerateSecret', async () => {
  const response = await client.messagingProfiles.actions.regenerateSecret(profileId);
  return { length: response.data.v1_secret.length };
});
let configId;
await attempt('autorespConfigs.create', async () => {
  const response = await client.messagingProfiles.autorespConfigs.create(profileId, {
    country_code: 'US', keywords: ['keyword1', 'keyword2'], op: 'start', resp_text: 'Thanks for subscribing to our texts.',
  });
  configId = response.data.id;
  return { keywords: response.data.keywords };
});
await attempt('autorespConfigs.list', async () => {
  const response = await client.messagingProfiles.autorespConfigs.list(profileId);
  return { total: response.meta.total_results };
});
await attempt('autorespConfigs.retrieve', async () => {
  const response = await client.messagingProfiles.autorespConfigs.retrieve(configId, { profile_id: profileId });
  return { op: response.data.op };
});
await attempt('autorespConfigs.update', async () => {
  const response = await client.messagingProfiles.autorespConfigs.update(configId, {
    profile_id: profileId, country_code: 'US', keywords: ['keyword3'], op: 'start', resp_text: 'Thanks for subscribing to our texts!',
  });
  return { keywords: response.data.keywords };
});
await attempt('autorespConfigs.delete', async () => {
  const response = await client.messagingProfiles.autorespConfigs.delete(configId, { profile_id: profileId });
  return { response };
});

// wait (bounded) for the delivered message's two webhooks, then report what was verified
for (let i = 0; i < 100 && verified.filter((v) => v.startsWith('message.')).length < 2; i++) {
  await new Promise((r) => setTimeout(r, 100));
}
out('webhooks', { ok: true, result: { verified } });
server.close();
