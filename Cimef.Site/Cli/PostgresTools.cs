using System.Diagnostics;
using Npgsql;

namespace Cimef.Site.Cli;

/// <summary>
/// The PostgreSQL client programs (pg_dump, pg_restore) run for backup and restore: found on PATH or in Debian's
/// /usr/lib/postgresql/&lt;version&gt;/bin (newest first, since pg_dump must be at least the server's version), given
/// the connection through libpq's environment variables. The password goes in PGPASSWORD only: never on a command
/// line (visible to every user in ps) nor in a message.
/// </summary>
public static class PostgresTools
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The full path of <paramref name="program"/>, or null when the PostgreSQL client tools are not installed.</summary>
    public static string? Find(string program)
    {
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin", program)));
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            candidates.Add(Path.Combine(dir, program));
        return candidates.FirstOrDefault(File.Exists);
    }

    public static string Missing(string program) =>
        $"{program} introuvable : installez les outils clients PostgreSQL (apt-get install postgresql-client) ou ajoutez-les au PATH.";

    /// <summary>libpq's environment for the connection string's server, database, user, password and SSL mode.</summary>
    public static Dictionary<string, string> Environment(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        var env = new Dictionary<string, string>
        {
            ["PGHOST"] = b.Host ?? "localhost",
            ["PGPORT"] = b.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGDATABASE"] = b.Database ?? "",
            ["PGUSER"] = b.Username ?? System.Environment.UserName,
            ["PGAPPNAME"] = "cimef-cli",
            ["PGCONNECT_TIMEOUT"] = Math.Max(b.Timeout, 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrEmpty(b.Password)) env["PGPASSWORD"] = b.Password;
        env["PGSSLMODE"] = b.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        return env;
    }

    /// <summary>Runs a client program with the connection in its environment; arguments never carry the password.</summary>
    public static async Task<Result> RunAsync(string program, string? connectionString, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Settings inherited from the operator's shell must not redirect the tool to another server.
        foreach (var k in new[] { "PGSERVICE", "PGSERVICEFILE", "PGOPTIONS", "PGHOSTADDR", "PGPASSFILE" }) psi.Environment.Remove(k);
        if (connectionString is not null)
            foreach (var (k, v) in Environment(connectionString)) psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"{program} n'a pas démarré.");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return new Result(p.ExitCode, await stdout, await stderr);
    }
}
