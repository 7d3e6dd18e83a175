using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Cimef.Site.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Cimef.Site.Cli;

/// <summary>
/// <c>migrate-to --connection "Host=…;Database=…;Username=…;Password=…"</c>: copies the clinic's SQLite database
/// (Storage:DataDirectory) into an empty PostgreSQL database. The target is first given the PostgreSQL migration set,
/// then every table is copied with its ids (COPY … FORMAT BINARY, parents before children), the identity sequences
/// are moved past the largest id, and each table's row count and checksum (SHA-256 over its rows ordered by primary
/// key, values normalised) are computed on both sides and printed, all in one transaction: on any difference nothing
/// is committed. The FTS5 trigram table is not copied (the pg_trgm index takes its place); reports stay in the data
/// directory, and the key ring with the credential secret is imported from it by the site's first start on PostgreSQL
/// (DataProtection:KeyStore defaults to Database there; see KeyRing.PrepareAsync).
/// </summary>
public static class MigrateTo
{
    private const string History = "__EFMigrationsHistory";

    private sealed record Column(string Name, string Type);

    private sealed record Table(string Name, List<Column> Columns, List<string> Key, List<string> IdentityColumns);

    public static async Task<int> RunAsync(IServiceProvider sp, string connection, TextWriter stdout, TextWriter stderr)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        if (!File.Exists(storage.DatabasePath))
        {
            await stderr.WriteLineAsync($"Aucune base SQLite à copier : {storage.DatabasePath} introuvable (Storage:DataDirectory).");
            return 1;
        }
        NpgsqlConnectionStringBuilder target;
        try
        {
            target = new NpgsqlConnectionStringBuilder(connection) { CommandTimeout = 0, Pooling = false };
        }
        catch (ArgumentException e)
        {
            await stderr.WriteLineAsync($"Chaîne de connexion PostgreSQL invalide : {e.Message}");
            return 2;
        }

        // The source must be exactly the current SQLite schema: the copy maps its tables column by column.
        await using (var source = new CimefDb(new DbContextOptionsBuilder<CimefDb>().UseSqlite(Sqlite.ConnectionString(storage.DatabasePath)).Options))
        {
            var pending = (await source.Database.GetPendingMigrationsAsync()).ToList();
            if (pending.Count > 0)
            {
                await stderr.WriteLineAsync($"La base SQLite n'est pas à jour ({pending.Count} migration(s) en attente) : lancez d'abord « check » avec Database:Provider=Sqlite.");
                return 1;
            }
        }

        try
        {
            await using (var probe = new NpgsqlConnection(target.ToString()))
            {
                await probe.OpenAsync();
                if (await FirstNonEmptyTableAsync(probe) is { } used)
                {
                    await stderr.WriteLineAsync($"Copie refusée : la base PostgreSQL cible n'est pas vide (table « {used} »). migrate-to ne copie que dans une base neuve (createdb), avant le premier démarrage du site sur PostgreSQL.");
                    return 1;
                }
            }

            await using (var pg = new PostgresCimefDb(new DbContextOptionsBuilder<PostgresCimefDb>().UseNpgsql(target.ToString()).Options))
                await pg.Database.MigrateAsync();

            await using var dst = new NpgsqlConnection(target.ToString());
            await dst.OpenAsync();
            await using var tx = await dst.BeginTransactionAsync();
            // The migration may have created rows (none today): the target must hold only what is copied.
            if (await FirstNonEmptyTableAsync(dst) is { } seeded)
            {
                await stderr.WriteLineAsync($"Copie refusée : la table « {seeded} » de la base cible n'est pas vide après migration.");
                return 1;
            }
            var tables = await TargetTablesAsync(dst);

            await using var src = new SqliteConnection(Sqlite.ConnectionString(storage.DatabasePath));
            await src.OpenAsync();
            await using (var begin = src.CreateCommand()) // one snapshot of the source (a plain BEGIN: commands need no transaction object)
            {
                begin.CommandText = "BEGIN";
                await begin.ExecuteNonQueryAsync();
            }
            var (sourceTables, sqliteOnly) = await SourceTablesAsync(src);
            // EF Core's own bookkeeping (__EFMigrationsHistory, SQLite's __EFMigrationsLock): each engine has its own.
            var missing = sourceTables.Keys.Where(t => !t.StartsWith("__EFMigrations", StringComparison.Ordinal) && tables.All(x => x.Name != t)).ToList();
            var absent = tables.Where(t => !sourceTables.ContainsKey(t.Name)).Select(t => t.Name).ToList();
            if (missing.Count > 0 || absent.Count > 0)
            {
                await stderr.WriteLineAsync("Copie refusée, schémas différents : "
                    + string.Join(", ", missing.Select(t => $"{t} absente de PostgreSQL").Concat(absent.Select(t => $"{t} absente de SQLite"))) + ".");
                return 1;
            }
            foreach (var t in tables)
            {
                var extra = sourceTables[t.Name].Except(t.Columns.Select(c => c.Name)).ToList();
                var lacking = t.Columns.Select(c => c.Name).Except(sourceTables[t.Name]).ToList();
                if (extra.Count > 0 || lacking.Count > 0)
                {
                    await stderr.WriteLineAsync($"Copie refusée, colonnes différentes dans {t.Name} : " + string.Join(", ", extra.Concat(lacking)) + ".");
                    return 1;
                }
            }

            await stdout.WriteLineAsync($"Copie de {storage.DatabasePath} vers PostgreSQL {target.Host}:{target.Port}/{target.Database} ({tables.Count} tables).");
            foreach (var t in tables)
            {
                await CopyAsync(src, dst, t);
                foreach (var c in t.IdentityColumns)
                    await ExecuteAsync(dst, $"SELECT setval(pg_get_serial_sequence('{Quote(t.Name)}', '{c}'), COALESCE((SELECT MAX({Quote(c)}) FROM {Quote(t.Name)}), 0) + 1, false)");
            }

            await stdout.WriteLineAsync("table\tlignes SQLite\tlignes PostgreSQL\tSHA-256 SQLite\tSHA-256 PostgreSQL\tétat");
            var different = 0;
            long rows = 0;
            foreach (var t in tables)
            {
                var (sc, ss) = await ChecksumAsync(src, t, postgres: false);
                var (dc, ds) = await ChecksumAsync(dst, t, postgres: true);
                var same = sc == dc && ss == ds;
                if (!same) different++;
                rows += dc;
                await stdout.WriteLineAsync($"{t.Name}\t{sc}\t{dc}\t{ss}\t{ds}\t{(same ? "identique" : "DIFFÉRENT")}");
            }
            if (different > 0)
            {
                await tx.RollbackAsync();
                await stderr.WriteLineAsync($"Copie annulée, rien n'a été écrit : {different} table(s) différente(s) après copie.");
                return 1;
            }
            await tx.CommitAsync();
            if (sqliteOnly.Count > 0)
                await stdout.WriteLineAsync("Non copiées (propres à SQLite, remplacées par l'index pg_trgm) : " + string.Join(", ", sqliteOnly));
            await stdout.WriteLineAsync($"Copie vérifiée : {tables.Count} tables, {rows} lignes. Les rapports et les clés restent dans {storage.Root} ; "
                + "démarrez le site avec Database__Provider=Postgres et Database__ConnectionString sur cette base.");
            return 0;
        }
        catch (InvalidOperationException e)
        {
            await stderr.WriteLineAsync($"Copie interrompue, rien n'a été écrit : {e.Message}");
            return 1;
        }
        catch (NpgsqlException e)
        {
            await stderr.WriteLineAsync($"Copie interrompue, rien n'a été écrit : PostgreSQL a répondu « {e.Message} ».");
            return 1;
        }
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"") + "\"";

    private static async Task ExecuteAsync(NpgsqlConnection c, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    private static async Task<List<string>> TableNamesAsync(NpgsqlConnection c)
    {
        var names = new List<string>();
        await using var cmd = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name", c);
        await using var r = await cmd.ExecuteReaderAsync();
        while (await r.ReadAsync()) names.Add(r.GetString(0));
        return names;
    }

    private static async Task<string?> FirstNonEmptyTableAsync(NpgsqlConnection c)
    {
        foreach (var t in await TableNamesAsync(c))
        {
            if (t == History) continue;
            await using var cmd = new NpgsqlCommand($"SELECT EXISTS (SELECT 1 FROM {Quote(t)})", c);
            if ((bool)(await cmd.ExecuteScalarAsync())!) return t;
        }
        return null;
    }

    /// <summary>The target's tables (without the migration history), parents before the tables that reference them.</summary>
    private static async Task<List<Table>> TargetTablesAsync(NpgsqlConnection c)
    {
        var tables = new Dictionary<string, Table>();
        foreach (var name in await TableNamesAsync(c))
            if (name != History) tables[name] = new Table(name, [], [], []);

        await using (var cmd = new NpgsqlCommand("""
            SELECT table_name, column_name, udt_name, COALESCE(is_identity = 'YES' OR column_default LIKE 'nextval(%', FALSE)
            FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
            """, c))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync())
                if (tables.TryGetValue(r.GetString(0), out var t))
                {
                    t.Columns.Add(new Column(r.GetString(1), r.GetString(2)));
                    if (r.GetBoolean(3)) t.IdentityColumns.Add(r.GetString(1));
                }

        await using (var cmd = new NpgsqlCommand("""
            SELECT k.table_name, k.column_name FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema AND k.table_name = tc.table_name
            WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'PRIMARY KEY' ORDER BY k.table_name, k.ordinal_position
            """, c))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync())
                if (tables.TryGetValue(r.GetString(0), out var t)) t.Key.Add(r.GetString(1));

        var parents = tables.Keys.ToDictionary(k => k, _ => new HashSet<string>());
        await using (var cmd = new NpgsqlCommand("""
            SELECT child.relname, parent.relname FROM pg_constraint f
            JOIN pg_class child ON child.oid = f.conrelid JOIN pg_class parent ON parent.oid = f.confrelid
            JOIN pg_namespace n ON n.oid = child.relnamespace
            WHERE f.contype = 'f' AND n.nspname = current_schema()
            """, c))
        await using (var r = await cmd.ExecuteReaderAsync())
            while (await r.ReadAsync())
                if (parents.TryGetValue(r.GetString(0), out var p) && r.GetString(1) != r.GetString(0)) p.Add(r.GetString(1));

        var ordered = new List<Table>();
        var done = new HashSet<string>();
        while (done.Count < tables.Count)
        {
            var ready = tables.Keys.Where(k => !done.Contains(k) && parents[k].All(p => done.Contains(p) || !tables.ContainsKey(p)))
                .OrderBy(k => k, StringComparer.Ordinal).ToList();
            if (ready.Count == 0) throw new InvalidOperationException("Cycle de clés étrangères entre tables : " + string.Join(", ", tables.Keys.Except(done)));
            foreach (var k in ready) { ordered.Add(tables[k]); done.Add(k); }
        }
        return ordered;
    }

    /// <summary>SQLite's tables and their columns; FTS5 tables and their shadow tables are listed apart (not copied).</summary>
    private static async Task<(Dictionary<string, List<string>> Tables, List<string> SqliteOnly)> SourceTablesAsync(SqliteConnection c)
    {
        var all = new List<(string Name, string Sql)>();
        await using (var cmd = c.CreateCommand())
        {
            cmd.CommandText = "SELECT name, COALESCE(sql, '') FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) all.Add((r.GetString(0), r.GetString(1)));
        }
        var virtualTables = all.Where(t => t.Sql.StartsWith("CREATE VIRTUAL TABLE", StringComparison.OrdinalIgnoreCase)).Select(t => t.Name).ToList();
        var sqliteOnly = all.Where(t => virtualTables.Any(v => t.Name == v || t.Name.StartsWith(v + "_", StringComparison.Ordinal))).Select(t => t.Name).ToList();
        var tables = new Dictionary<string, List<string>>();
        foreach (var (name, _) in all.Where(t => !sqliteOnly.Contains(t.Name)))
        {
            var columns = new List<string>();
            await using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT name FROM pragma_table_info({SqliteLiteral(name)}) ORDER BY cid";
            await using var r = await cmd.ExecuteReaderAsync();
            while (await r.ReadAsync()) columns.Add(r.GetString(0));
            tables[name] = columns;
        }
        return (tables, sqliteOnly);
    }

    private static string SqliteLiteral(string s) => "'" + s.Replace("'", "''") + "'";

    private static async Task CopyAsync(SqliteConnection src, NpgsqlConnection dst, Table t)
    {
        var columns = string.Join(", ", t.Columns.Select(c => Quote(c.Name)));
        await using var cmd = src.CreateCommand();
        cmd.CommandText = $"SELECT {columns} FROM {Quote(t.Name)}";
        await using var r = await cmd.ExecuteReaderAsync();
        await using var writer = await dst.BeginBinaryImportAsync($"COPY {Quote(t.Name)} ({columns}) FROM STDIN (FORMAT BINARY)");
        while (await r.ReadAsync())
        {
            await writer.StartRowAsync();
            for (var i = 0; i < t.Columns.Count; i++)
            {
                var value = FromSqlite(r.GetValue(i), t.Columns[i].Type, t.Name, t.Columns[i].Name);
                if (value is null) await writer.WriteNullAsync();
                else await writer.WriteAsync(value, t.Columns[i].Type);
            }
        }
        await writer.CompleteAsync();
    }

    /// <summary>A value as SQLite stores it (integer, real, text, blob), as the CLR value of the PostgreSQL column type.</summary>
    private static object? FromSqlite(object raw, string type, string table, string column)
    {
        if (raw is DBNull) return null;
        var inv = CultureInfo.InvariantCulture;
        try
        {
            return type switch
            {
                "bool" => raw switch { long l => l != 0, string s => s is "1" or "true" or "True", _ => Convert.ToBoolean(raw, inv) },
                "int2" => Convert.ToInt16(raw, inv),
                "int4" => Convert.ToInt32(raw, inv),
                "int8" => Convert.ToInt64(raw, inv),
                "float4" => Convert.ToSingle(raw, inv),
                "float8" => Convert.ToDouble(raw, inv),
                "numeric" => raw switch
                {
                    string s => decimal.Parse(s, NumberStyles.Float, inv),
                    double d => (decimal)d,
                    _ => Convert.ToDecimal(raw, inv),
                },
                "text" or "varchar" or "bpchar" or "citext" => raw switch { string s => s, byte[] b => Encoding.UTF8.GetString(b), _ => Convert.ToString(raw, inv) },
                "timestamptz" => DateTime.Parse((string)raw, inv, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
                "timestamp" => DateTime.SpecifyKind(DateTime.Parse((string)raw, inv, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), DateTimeKind.Unspecified),
                "date" => DateOnly.FromDateTime(DateTime.Parse((string)raw, inv)),
                "time" => TimeOnly.Parse((string)raw, inv),
                "interval" => TimeSpan.Parse((string)raw, inv),
                "uuid" => raw is byte[] g ? new Guid(g) : Guid.Parse((string)raw),
                "bytea" => raw is byte[] b ? b : Encoding.UTF8.GetBytes(Convert.ToString(raw, inv)!),
                _ => throw new NotSupportedException($"type PostgreSQL {type} non pris en charge"),
            };
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException or NotSupportedException)
        {
            throw new InvalidOperationException($"{table}.{column} : valeur SQLite « {raw} » illisible comme {type} ({e.Message}).", e);
        }
    }

    /// <summary>One canonical text per value, the same on both engines (timestamps to the microsecond, PostgreSQL's precision).</summary>
    private static string Normalise(object? value, string type)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = value switch
        {
            null or DBNull => null,
            bool b => b ? "t" : "f",
            DateTime d when type == "date" => d.ToString("yyyy-MM-dd", inv),
            DateTime d => new DateTime(d.Ticks - d.Ticks % 10).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", inv),
            DateOnly d => d.ToString("yyyy-MM-dd", inv),
            TimeOnly t => t.ToString("HH:mm:ss.ffffff", inv),
            TimeSpan t => t.ToString("c", inv),
            decimal m => m.ToString("G29", inv) is var s && s.Contains('.') ? s.TrimEnd('0').TrimEnd('.') : m.ToString("G29", inv),
            double d => d.ToString("R", inv),
            float f => f.ToString("R", inv),
            byte[] b => Convert.ToHexStringLower(b),
            Guid g => g.ToString("D"),
            IFormattable f => f.ToString(null, inv),
            _ => value.ToString(),
        };
        return text is null ? "N" : text.Length.ToString(inv) + ":" + text;
    }

    /// <summary>Row count and SHA-256 over the table's rows ordered by primary key (text keys in byte order on both engines).</summary>
    private static async Task<(long Rows, string Sha256)> ChecksumAsync(System.Data.Common.DbConnection c, Table t, bool postgres)
    {
        var keyColumns = t.Key.Count > 0 ? t.Key : t.Columns.Select(x => x.Name).ToList();
        var order = string.Join(", ", keyColumns.Select(k =>
            postgres && t.Columns.First(x => x.Name == k).Type is "text" or "varchar" ? Quote(k) + " COLLATE \"C\"" : Quote(k)));
        await using var cmd = c.CreateCommand();
        cmd.CommandText = $"SELECT {string.Join(", ", t.Columns.Select(x => Quote(x.Name)))} FROM {Quote(t.Name)} ORDER BY {order}";
        await using var r = await cmd.ExecuteReaderAsync();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long rows = 0;
        var line = new StringBuilder();
        while (await r.ReadAsync())
        {
            line.Clear();
            for (var i = 0; i < t.Columns.Count; i++)
            {
                var raw = r.GetValue(i);
                var value = postgres ? raw : FromSqlite(raw, t.Columns[i].Type, t.Name, t.Columns[i].Name);
                line.Append(Normalise(value, t.Columns[i].Type)).Append('|');
            }
            line.Append('\n');
            sha.AppendData(Encoding.UTF8.GetBytes(line.ToString()));
            rows++;
        }
        return (rows, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}
