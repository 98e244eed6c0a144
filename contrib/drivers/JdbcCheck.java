// pgJDBC with prepareThreshold=1 (server-side named statements from the
// first execution) against a pooler in transaction mode
// (contrib/drivers/run.sh): DRV_CONNS connections per user in threads, each
// running DRV_TX transactions with reused PreparedStatements and checking
// every value, then one connection runs the edge cases.  Last line PASS or
// FAIL; exit 1 on the first wrong value or unexpected error.
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;

public class JdbcCheck {
	static final String DRIVER = "jdbc";
	static final String HOST = System.getenv("DRV_HOST");
	static final String PORT = System.getenv("DRV_PORT");
	static final String DB = System.getenv("DRV_DB");
	static final int CONNS = Integer.parseInt(env("DRV_CONNS", "8"));
	static final int TX = Integer.parseInt(env("DRV_TX", "200"));

	static String env(String name, String dflt) {
		String v = System.getenv(name);
		return v != null ? v : dflt;
	}

	static void check(Object got, Object want, String what) {
		if (!String.valueOf(got).equals(String.valueOf(want)))
			throw new IllegalStateException(what + ": got " + got + ", want " + want);
	}

	static Connection connect(String user, String password, String... extra) throws SQLException {
		Properties p = new Properties();
		for (int i = 0; i + 1 < extra.length; i += 2)
			p.setProperty(extra[i], extra[i + 1]);
		p.setProperty("user", user);
		p.setProperty("password", password);
		p.setProperty("prepareThreshold", "1");
		p.setProperty("connectTimeout", "10");
		p.setProperty("sslmode", "disable");
		return DriverManager.getConnection("jdbc:postgresql://" + HOST + ":" + PORT + "/" + DB, p);
	}

	/** First column of the one row of ps, executed with int parameters. */
	static String one(PreparedStatement ps, Object... params) throws SQLException {
		for (int i = 0; i < params.length; i++)
			ps.setObject(i + 1, params[i]);
		try (ResultSet rs = ps.executeQuery()) {
			if (!rs.next())
				throw new IllegalStateException("no row");
			return rs.getString(1);
		}
	}

	static void work(String user, String password, int k, Set<Integer> pids) throws Exception {
		String tag = user + "/" + k;
		try (Connection c = connect(user, password);
		     PreparedStatement add = c.prepareStatement("SELECT ?::int + ?::int AS v");
		     PreparedStatement mine = c.prepareStatement(
		         "SELECT ?::int * " + (1000 + k) + " AS v, pg_backend_pid() AS pid");
		     PreparedStatement ins = c.prepareStatement(
		         "INSERT INTO drv_rows (driver, conn, i, v) VALUES (?, ?, ?, ?)");
		     PreparedStatement sel = c.prepareStatement(
		         "SELECT v FROM drv_rows WHERE driver = ? AND conn = ? AND i = ?");
		     PreparedStatement txt = c.prepareStatement("SELECT ?::text || '-' || ?::text AS s")) {
			for (int i = 0; i < TX; i++) {
				switch ((i + k) % 4) {
				case 0:
					check(one(add, i, k), i + k, tag + " add " + i);
					break;
				case 1:
					mine.setInt(1, i);
					try (ResultSet rs = mine.executeQuery()) {
						rs.next();
						check(rs.getInt(1), i * (1000 + k), tag + " mine " + i);
						pids.add(rs.getInt(2));
					}
					break;
				case 2:
					c.setAutoCommit(false);
					ins.setString(1, DRIVER);
					ins.setString(2, tag);
					ins.setInt(3, i);
					ins.setInt(4, i * 3);
					check(ins.executeUpdate(), 1, tag + " insert " + i);
					check(one(sel, DRIVER, tag, i), i * 3, tag + " row " + i);
					c.commit();
					c.setAutoCommit(true);
					break;
				default:
					check(one(txt, tag, String.valueOf(i)), tag + "-" + i, tag + " text " + i);
				}
			}
			int want = 0;
			for (int i = 0; i < TX; i++)
				if ((i + k) % 4 == 2)
					want++;
			try (PreparedStatement cnt = c.prepareStatement(
			         "SELECT count(*) FROM drv_rows WHERE driver = ? AND conn = ?")) {
				check(one(cnt, DRIVER, tag), want, tag + " rows committed");
			}
		}
	}

	static void expectState(PreparedStatement ps, String state, String what, Object... params) {
		try {
			one(ps, params);
		} catch (SQLException e) {
			check(e.getSQLState(), state, what);
			return;
		}
		throw new IllegalStateException(what + ": no error");
	}

	static List<String> edges(String user, String password) throws Exception {
		List<String> done = new ArrayList<>();
		try (Connection c = connect(user, password); Statement st = c.createStatement();
		     PreparedStatement q = c.prepareStatement("SELECT pg_backend_pid(), ?::int + 7");
		     PreparedStatement div = c.prepareStatement("SELECT 10 / ?::int")) {
			// 1. The server changes under a prepared statement.
			q.setInt(1, 1);
			int pid1;
			try (ResultSet rs = q.executeQuery()) {
				rs.next();
				pid1 = rs.getInt(1);
				check(rs.getInt(2), 8, "before reconnect");
			}
			Process p = new ProcessBuilder(System.getenv("DRV_RECONNECT")).inheritIO().start();
			check(p.waitFor(), 0, "reconnect");
			q.setInt(1, 2);
			try (ResultSet rs = q.executeQuery()) {
				rs.next();
				check(rs.getInt(2), 9, "after reconnect");
				if (rs.getInt(1) == pid1)
					throw new IllegalStateException("RECONNECT: still on backend " + pid1);
			}
			done.add("server change");

			// 2. A statement error, then the same statement again, also in a block.
			check(one(div, 2), 5, "div 2");
			expectState(div, "22012", "div 0", 0);
			check(one(div, 5), 2, "div 5 after error");
			c.setAutoCommit(false);
			check(one(div, 1), 10, "div 1 in block");
			expectState(div, "22012", "div 0 in block", 0);
			expectState(div, "25P02", "div in an aborted block", 1);
			c.rollback();
			c.setAutoCommit(true);
			check(one(div, 10), 1, "div 10 after rollback");
			// A query timeout: pgJDBC sends a CancelRequest on a new connection,
			// which the pooler passes to the server this client is on.
			try (PreparedStatement sleep = c.prepareStatement("SELECT 7 FROM pg_sleep(?::float8)")) {
				sleep.setQueryTimeout(1);
				expectState(sleep, "57014", "query timeout", 30);
				check(one(sleep, 0), 7, "sleep 0 after cancel");
			}
			done.add("error then reuse");
			done.add("cancel");

			// 3. pgJDBC sees the DEALLOCATE ALL / DISCARD ALL command tags and
			// prepares its statements again.
			for (String cmd : new String[] {"DEALLOCATE ALL", "DISCARD ALL"}) {
				check(one(div, 2), 5, "before " + cmd);
				st.execute(cmd);
				check(one(div, 2), 5, "after " + cmd);
				q.setInt(1, 3);
				try (ResultSet rs = q.executeQuery()) {
					rs.next();
					check(rs.getInt(2), 10, "other after " + cmd);
				}
			}
			done.add("DEALLOCATE ALL/DISCARD ALL");

			// 4. Blocks: rollback and commit.
			try (PreparedStatement ins = c.prepareStatement(
			         "INSERT INTO drv_rows (driver, conn, i, v) VALUES (?, 'edge', ?, ?)");
			     PreparedStatement cnt = c.prepareStatement(
			         "SELECT count(*) FROM drv_rows WHERE driver = ? AND conn = 'edge'")) {
				c.setAutoCommit(false);
				for (int i = 1; i <= 2; i++) {
					ins.setString(1, DRIVER);
					ins.setInt(2, i);
					ins.setInt(3, i);
					ins.executeUpdate();
					check(one(cnt, DRIVER), i, "inside block " + i);
					if (i == 1)
						c.commit();
					else
						c.rollback();
				}
				c.setAutoCommit(true);
				check(one(cnt, DRIVER), 1, "after rollback");

				// 5. executeBatch: many Bind/Execute before one Sync.
				for (int i = 10; i < 60; i++) {
					ins.setString(1, DRIVER);
					ins.setInt(2, i);
					ins.setInt(3, i);
					ins.addBatch();
				}
				int[] counts = ins.executeBatch();
				check(counts.length, 50, "batch size");
				check(one(cnt, DRIVER), 51, "after batch");
			}
			done.add("transaction blocks");
			done.add("batch");
		}
		// 6. A statement cache of two: pgJDBC closes the statements it evicts
		// (Close messages in the same round trip as the next Parse and Bind).
		try (Connection c = connect(user, password, "preparedStatementCacheQueries", "2")) {
			for (int round = 0; round < 3; round++) {
				for (int n = 0; n < 6; n++) {
					try (PreparedStatement ps = c.prepareStatement("SELECT ?::int + " + n)) {
						check(one(ps, round), round + n, "evicted " + n + " round " + round);
						check(one(ps, round + 1), round + 1 + n, "evicted " + n + " again");
					}
				}
			}
		}
		done.add("statement cache eviction");
		return done;
	}

	public static void main(String[] args) throws Exception {
		String[] users = System.getenv("DRV_USERS").split(",");
		List<Thread> threads = new ArrayList<>();
		List<String> failures = Collections.synchronizedList(new ArrayList<>());
		Set<Integer> pids = Collections.synchronizedSet(new HashSet<>());
		for (String u : users) {
			String name = u.substring(0, u.indexOf(':')), pw = u.substring(u.indexOf(':') + 1);
			for (int k = 0; k < CONNS; k++) {
				final int kk = k;
				threads.add(new Thread(() -> {
					try {
						work(name, pw, kk, pids);
					} catch (Exception e) {
						failures.add(name + "/" + kk + ": " + e);
					}
				}));
			}
		}
		threads.forEach(Thread::start);
		for (Thread t : threads)
			t.join();
		if (!failures.isEmpty()) {
			failures.stream().limit(10).forEach(System.out::println);
			System.out.println("FAIL " + failures.size() + " of " + threads.size()
			                   + " connections failed; first: " + failures.get(0));
			System.exit(1);
		}
		List<String> done;
		try {
			String u = users[0];
			done = edges(u.substring(0, u.indexOf(':')), u.substring(u.indexOf(':') + 1));
		} catch (Exception e) {
			System.out.println("FAIL edge cases: " + e);
			System.exit(1);
			return;
		}
		System.out.println("PASS transactions=" + threads.size() * TX + " connections=" + threads.size()
		                   + " backends=" + pids.size() + " edges: " + String.join(", ", done));
	}
}
