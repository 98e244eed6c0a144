// Settings and checks shared by pg_check.js and postgresjs_check.js
// (contrib/drivers/run.sh sets the DRV_* variables).
'use strict'
const { execFileSync } = require('child_process')

const env = (name, dflt) => {
  const v = process.env[name] ?? dflt
  if (v === undefined) throw new Error(`${name} is not set`)
  return v
}

const settings = {
  host: env('DRV_HOST'),
  port: Number(env('DRV_PORT')),
  database: env('DRV_DB'),
  users: env('DRV_USERS').split(',').map(u => {
    const i = u.indexOf(':')
    return { user: u.slice(0, i), password: u.slice(i + 1) }
  }),
  conns: Number(env('DRV_CONNS', '8')),
  tx: Number(env('DRV_TX', '200'))
}

function check(got, want, what) {
  // Values come back as numbers or strings depending on the type: compare as text.
  if (String(got) !== String(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`)
}

async function expectError(promise, code, what) {
  try {
    await promise
  } catch (e) {
    if (e.code === code) return
    throw new Error(`${what}: expected SQLSTATE ${code}, got ${e.code}: ${e.message}`)
  }
  throw new Error(`${what}: expected SQLSTATE ${code}, got no error`)
}

// Makes the pooler close its servers (RECONNECT on its console).
function reconnect() {
  execFileSync(env('DRV_RECONNECT'), { stdio: 'inherit' })
}

// Runs every connection's work at once; prints and exits on failure.
async function runAll(driver, work, edges) {
  const jobs = []
  const pids = new Set()
  settings.users.forEach(u => {
    for (let k = 0; k < settings.conns; k++) jobs.push({ ...u, k, tag: `${u.user}/${k}` })
  })
  const results = await Promise.allSettled(jobs.map(j => work(j, pids)))
  const failures = results.map((r, i) => r.status === 'rejected' ? `${jobs[i].tag}: ${r.reason && r.reason.message}` : null).filter(Boolean)
  if (failures.length) {
    failures.slice(0, 10).forEach(f => console.log(f))
    console.log(`FAIL ${failures.length} of ${jobs.length} connections failed; first: ${failures[0]}`)
    process.exit(1)
  }
  let done
  try {
    done = await edges(settings.users[0])
  } catch (e) {
    console.log(`FAIL edge cases: ${e.code || ''} ${e.message}`)
    process.exit(1)
  }
  console.log(`PASS transactions=${jobs.length * settings.tx} connections=${jobs.length} backends=${pids.size} edges: ${done.join(', ')}`)
  process.exit(0)
}

module.exports = { settings, check, expectError, reconnect, runAll }
