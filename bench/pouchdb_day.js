// The PouchDB anchor for bench/sync.py's day's work over the shaping proxy (run by bench/sync.py --pouchdb DIR,
// with NODE_PATH=DIR/node_modules; pouchdb and pouchdb-server are installed there by npm, never committed).
//
//   node pouchdb_day.js seed LOCAL_DIR SERVER_URL DOCS.json    local database with the households, replicated both ways
//   node pouchdb_day.js day LOCAL_DIR SERVER_URL PROXY_URL DAY.json
//       the colleague's edits written straight to the server, the tablet's edits to the local database, then one
//       two-way replication (local.sync) through the proxy, started again after each cut until it completes;
//       prints {"seconds": ..., "retries": ..., "pushed": ..., "pulled": ...}
'use strict';
const fs = require('fs');
const PouchDB = require('pouchdb');

async function edit(db, changes) {
  const docs = await db.allDocs({ keys: changes.map((c) => c._id), include_docs: true });
  const updated = docs.rows.map((row, i) => Object.assign({}, row.doc, changes[i]));
  const answers = await db.bulkDocs(updated);
  for (const answer of answers) if (answer.error) throw new Error(`edit failed: ${answer.error}`);
}

async function main() {
  const [command, localDir, serverUrl, ...rest] = process.argv.slice(2);
  const local = new PouchDB(localDir);
  if (command === 'seed') {
    const docs = JSON.parse(fs.readFileSync(rest[0], 'utf8'));
    await local.bulkDocs(docs);
    await local.sync(new PouchDB(serverUrl));
    return;
  }
  const [proxyUrl, dayFile] = rest;
  const day = JSON.parse(fs.readFileSync(dayFile, 'utf8'));
  await edit(new PouchDB(serverUrl), day.theirs);
  await edit(local, day.mine);
  process.on('unhandledRejection', () => {}); // a cut during the adapter's setup: the sync below fails and is retried
  const started = process.hrtime.bigint();
  let retries = 0;
  let pushed = 0;
  let pulled = 0;
  for (;;) {
    try {
      const remote = new PouchDB(proxyUrl, { skip_setup: true });
      const result = await local.sync(remote, { batch_size: 100 });
      pushed += result.push.docs_written;
      pulled += result.pull.docs_written;
      break;
    } catch (error) {
      retries += 1;
      if (retries > 50) throw error;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ seconds, retries, pushed, pulled }));
}

main().catch((error) => {
  console.error(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
