// A webhook receiver that checks every delivery's signature with the Standard Webhooks library,
// as a partner's or a brand's system would. `WEBHOOK_SECRET` is the subscription's `whsec_…`
// secret; it listens on RECEIVER_PORT (default 9000) and prints one line per event.
//
//   WEBHOOK_SECRET=whsec_… node examples/webhook-receiver.mjs
import { Buffer } from 'node:buffer';
import { createServer } from 'node:http';
import process from 'node:process';
import { Webhook } from 'standardwebhooks';

const webhook = new Webhook(process.env.WEBHOOK_SECRET ?? '');
const port = Number(process.env.RECEIVER_PORT ?? 9000);
const seen = new Set();
const print = (line) => process.stdout.write(`${line}\n`);

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    let event;
    try {
      // Throws unless the signature matches and the timestamp is within five minutes.
      event = webhook.verify(body, request.headers);
    } catch (error) {
      print(`rejected: ${error.message}`);
      response.writeHead(400).end();
      return;
    }
    // Delivery is at least once: the same webhook-id may come again.
    if (!seen.has(request.headers['webhook-id'])) {
      seen.add(request.headers['webhook-id']);
      const mobile = event.data.customerIdentifiers.instore.mobile;
      print(`verified ${event.eventName} ${event.data.partnerProgramName} ${mobile} ${event.createdAt}`);
    }
    response.writeHead(204).end();
  });
}).listen(port, '127.0.0.1', () => print(`listening on http://localhost:${port}/hooks`));
