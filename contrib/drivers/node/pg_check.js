// node-postgres named queries ({ name, text, values }) against a pooler in
// transaction mode (contrib/drivers/run.sh): every connection runs
// DRV_TX transactions at once with the others, checking every value, then
// one connection runs the edge cases.  Last line PASS or FAIL; exit 1 on
// the first wrong value or unexpected error.
'use strict'
const pg = require('pg')
const { settings, check, expectError, reconnect, runAll } = require('./common')

const DRIVER = 'node-pg'

async function connect({ user, password }) {
  const c = new pg.Client({ host: settings.host, port: settings.port, database: settings.database, user, password, connectionTimeoutMillis: 10000 })
  await c.connect()
  return c
}

async function work(job, pids) {
  const { k, tag } = job
  const c = await connect(job)
  try {
    for (let i = 0; i < settings.tx; i++) {
      const kind = (i + k) % 4
      if (kind === 0) {
        const r = await c.query({ name: 'add', text: 'SELECT $1::int + $2::int AS v', values: [i, k] })
        check(r.rows[0].v, i + k, `add ${i}`)
      } else if (kind === 1) {
        // A text of this connection's own under a name every connection uses.
        const r = await c.query({ name: 'mine', text: `SELECT $1::int * ${1000 + k} AS v, pg_backend_pid() AS pid`, values: [i] })
        check(r.rows[0].v, i * (1000 + k), `mine ${i}`)
        pids.add(r.rows[0].pid)
      } else if (kind === 2) {
        await c.query('BEGIN')
        await c.query({ name: 'ins', text: 'INSERT INTO drv_rows (driver, conn, i, v) VALUES ($1, $2, $3, $4)', values: [DRIVER, tag, i, i * 3] })
        const r = await c.query({ name: 'sel', text: 'SELECT v FROM drv_rows WHERE driver = $1 AND conn = $2 AND i = $3', values: [DRIVER, tag, i] })
        check(r.rows[0].v, i * 3, `row ${i}`)
        await c.query('COMMIT')
      } else {
        const r = await c.query({ name: 'txt', text: "SELECT $1::text || '-' || $2::text AS s", values: [tag, String(i)] })
        check(r.rows[0].s, `${tag}-${i}`, `text ${i}`)
      }
    }
    const r = await c.query({ name: 'cnt', text: 'SELECT count(*) AS n FROM drv_rows WHERE driver = $1 AND conn = $2', values: [DRIVER, tag] })
    let want = 0
    for (let i = 0; i < settings.tx; i++) if ((i + k) % 4 === 2) want++
    check(r.rows[0].n, want, 'rows committed')
  } finally {
    await c.end()
  }
}

async function edges(user) {
  const c = await connect(user)
  const done = []
  const q = v => c.query({ name: 'pid', text: 'SELECT pg_backend_pid() AS pid, $1::int + 7 AS v', values: [v] })

  // 1. The server changes under a prepared statement.
  let r = await q(1)
  check(r.rows[0].v, 8, 'before reconnect')
  const pid1 = r.rows[0].pid
  reconnect()
  r = await q(2)
  check(r.rows[0].v, 9, 'after reconnect')
  if (r.rows[0].pid === pid1) throw new Error(`RECONNECT: still on backend ${pid1}`)
  done.push('server change')

  // 2. A statement error, then the same statement again, also in a block.
  const div = v => c.query({ name: 'div', text: 'SELECT 10 / $1::int AS v', values: [v] })
  check((await div(2)).rows[0].v, 5, 'div 2')
  await expectError(div(0), '22012', 'div 0')
  check((await div(5)).rows[0].v, 2, 'div 5 after error')
  await c.query('BEGIN')
  check((await div(1)).rows[0].v, 10, 'div 1 in block')
  await expectError(div(0), '22012', 'div 0 in block')
  await expectError(div(1), '25P02', 'div in an aborted block')
  await c.query('ROLLBACK')
  check((await div(10)).rows[0].v, 1, 'div 10 after rollback')
  // A Parse that fails leaves no name behind: the name can be used again.
  await expectError(c.query({ name: 'bad', text: 'SELEC $1::int', values: [1] }), '42601', 'bad parse')
  check((await c.query({ name: 'bad', text: 'SELECT $1::int + 1 AS v', values: [1] })).rows[0].v, 2, 'name of a failed parse')
  done.push('error then reuse')

  // 3. node-postgres does not notice DEALLOCATE ALL / DISCARD ALL: it Binds
  // the old name, which fails with 26000 as on PostgreSQL; a new name for
  // the same text is prepared again (the server forgot it too).
  let n = 0
  for (const cmd of ['DEALLOCATE ALL', 'DISCARD ALL']) {
    await c.query(cmd)
    await expectError(div(2), '26000', `old name after ${cmd}`)
    const again = await c.query({ name: `div_${n++}`, text: 'SELECT 10 / $1::int AS v', values: [2] })
    check(again.rows[0].v, 5, `new name after ${cmd}`)
  }
  done.push('DEALLOCATE ALL/DISCARD ALL')

  // 4. Blocks: a rolled back insert is gone, a committed one stays.
  const ins = v => c.query({ name: 'edge_ins', text: "INSERT INTO drv_rows (driver, conn, i, v) VALUES ($1, 'edge', $2, $2)", values: [DRIVER, v] })
  const cnt = () => c.query({ name: 'edge_cnt', text: "SELECT count(*) AS n FROM drv_rows WHERE driver = $1 AND conn = 'edge'", values: [DRIVER] })
  await c.query('BEGIN')
  await ins(1)
  check((await cnt()).rows[0].n, 1, 'inside block')
  await c.query('COMMIT')
  await c.query('BEGIN')
  await ins(2)
  check((await cnt()).rows[0].n, 2, 'inside block 2')
  await c.query('ROLLBACK')
  check((await cnt()).rows[0].n, 1, 'after rollback')
  done.push('transaction blocks')

  // 5. Queries queued at once on one client (node-postgres sends them one
  // by one), the first use of a name among them.
  const many = await Promise.all(Array.from({ length: 20 }, (_, j) =>
    c.query({ name: 'twice', text: 'SELECT $1::int * 2 AS v', values: [j] })))
  many.forEach((res, j) => check(res.rows[0].v, j * 2, `queued ${j}`))
  done.push('queued')
  await c.end()
  return done
}

runAll(DRIVER, work, edges)
