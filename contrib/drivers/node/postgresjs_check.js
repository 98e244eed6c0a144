// postgres.js (prepare: true, its default) against a pooler in transaction
// mode (contrib/drivers/run.sh): one connection per sql instance (max: 1),
// DRV_TX transactions each, all at once; postgres.js pipelines the queries
// of one connection, so a server also gets several Parse/Bind/Sync in
// flight from one client.  Then one connection runs the edge cases.  Last
// line PASS or FAIL; exit 1 on the first wrong value or unexpected error.
'use strict'
const postgres = require('postgres')
const { settings, check, expectError, reconnect, runAll } = require('./common')

const DRIVER = 'postgresjs'

function connect({ user, password }) {
  return postgres({
    host: settings.host, port: settings.port, database: settings.database, user, pass: password,
    max: 1, prepare: true, idle_timeout: 0, connect_timeout: 10, onnotice: () => {}
  })
}

async function work(job, pids) {
  const { k, tag } = job
  const sql = connect(job)
  try {
    for (let i = 0; i < settings.tx; i++) {
      const kind = (i + k) % 4
      if (kind === 0) {
        const [r] = await sql`SELECT ${i}::int + ${k}::int AS v`
        check(r.v, i + k, `add ${i}`)
      } else if (kind === 1) {
        const [r] = await sql.unsafe(`SELECT $1::int * ${1000 + k} AS v, pg_backend_pid() AS pid`, [i], { prepare: true })
        check(r.v, i * (1000 + k), `mine ${i}`)
        pids.add(r.pid)
      } else if (kind === 2) {
        await sql.begin(async tx => {
          await tx`INSERT INTO drv_rows (driver, conn, i, v) VALUES (${DRIVER}, ${tag}, ${i}, ${i * 3})`
          const [r] = await tx`SELECT v FROM drv_rows WHERE driver = ${DRIVER} AND conn = ${tag} AND i = ${i}`
          check(r.v, i * 3, `row ${i}`)
        })
      } else {
        // Three at once: pipelined on this connection.
        const rs = await Promise.all([0, 1, 2].map(j => sql`SELECT ${tag}::text || '-' || ${String(i + j)}::text AS s`))
        rs.forEach(([r], j) => check(r.s, `${tag}-${i + j}`, `text ${i}+${j}`))
      }
    }
    const [r] = await sql`SELECT count(*)::int AS n FROM drv_rows WHERE driver = ${DRIVER} AND conn = ${tag}`
    let want = 0
    for (let i = 0; i < settings.tx; i++) if ((i + k) % 4 === 2) want++
    check(r.n, want, 'rows committed')
  } finally {
    await sql.end({ timeout: 5 })
  }
}

async function edges(user) {
  const sql = connect(user)
  const done = []
  const q = v => sql`SELECT pg_backend_pid() AS pid, ${v}::int + 7 AS v`

  // 1. The server changes under a prepared statement.
  let [r] = await q(1)
  check(r.v, 8, 'before reconnect')
  const pid1 = r.pid;
  [r] = await q(2)
  check(r.pid, pid1, 'same backend without reconnect')
  reconnect();
  [r] = await q(3)
  check(r.v, 10, 'after reconnect')
  if (r.pid === pid1) throw new Error(`RECONNECT: still on backend ${pid1}`)
  done.push('server change')

  // 2. A statement error, then the same statement again; in a pipeline;
  // in a block (sql.begin rolls back).
  const div = v => sql`SELECT 10 / ${v}::int AS v`
  check((await div(2))[0].v, 5, 'div 2')
  await expectError(div(0), '22012', 'div 0')
  check((await div(5))[0].v, 2, 'div 5 after error')
  const piped = await Promise.allSettled([div(1), div(0), div(2)])
  check(piped.map(p => p.status).join(), 'fulfilled,rejected,fulfilled', 'pipelined error')
  check(piped[1].reason.code, '22012', 'pipelined error code')
  check(piped[2].value[0].v, 5, 'after pipelined error')
  await expectError(sql.begin(async tx => {
    check((await tx`SELECT 10 / ${1}::int AS v`)[0].v, 10, 'div 1 in block')
    await tx`SELECT 10 / ${0}::int AS v`
  }), '22012', 'div 0 in block')
  check((await div(10))[0].v, 1, 'div 10 after rollback')
  // A statement that does not parse, in the middle of a pipeline.
  const mixed = await Promise.allSettled([div(2), sql`SELEC ${1}::int`, div(5)])
  check(mixed.map(p => p.status).join(), 'fulfilled,rejected,fulfilled', 'pipelined parse error')
  check(mixed[1].reason.code, '42601', 'pipelined parse error code')
  done.push('error then reuse')

  // 3. DEALLOCATE ALL / DISCARD ALL: postgres.js does not notice them, but
  // retries a query whose statement is gone (routine FetchPreparedStatement)
  // with a new Parse, so the next use just works.
  for (const cmd of ['DEALLOCATE ALL', 'DISCARD ALL']) {
    await sql.unsafe(cmd)
    check((await div(2))[0].v, 5, `after ${cmd}`)
    check((await q(4))[0].v, 11, `other after ${cmd}`)
  }
  done.push('DEALLOCATE ALL/DISCARD ALL')

  // 4. Blocks: a committed insert stays, a rolled back one (an exception,
  // and a savepoint) is gone.
  const cnt = async () => (await sql`SELECT count(*)::int AS n FROM drv_rows WHERE driver = ${DRIVER} AND conn = 'edge'`)[0].n
  await sql.begin(async tx => {
    await tx`INSERT INTO drv_rows (driver, conn, i, v) VALUES (${DRIVER}, 'edge', ${1}, ${1})`
    await tx.savepoint(async sp => {
      await sp`INSERT INTO drv_rows (driver, conn, i, v) VALUES (${DRIVER}, 'edge', ${2}, ${2})`
      throw new Error('roll back to the savepoint')
    }).catch(() => {})
  })
  check(await cnt(), 1, 'after commit with a savepoint rolled back')
  await sql.begin(async tx => {
    await tx`INSERT INTO drv_rows (driver, conn, i, v) VALUES (${DRIVER}, 'edge', ${3}, ${3})`
    throw new Error('roll back')
  }).catch(e => { if (e.message !== 'roll back') throw e })
  check(await cnt(), 1, 'after rollback')
  done.push('transaction blocks')

  // 5. A long pipeline: 50 queries, new statements among them.
  const many = await Promise.all(Array.from({ length: 50 }, (_, j) =>
    j % 2 ? sql`SELECT ${j}::int * 2 AS v` : sql.unsafe(`SELECT $1::int * 2 + ${j} - ${j} AS v`, [j], { prepare: true })))
  many.forEach(([res], j) => check(res.v, j * 2, `pipeline ${j}`))
  done.push('pipeline')
  await sql.end({ timeout: 5 })
  return done
}

runAll(DRIVER, work, edges)
