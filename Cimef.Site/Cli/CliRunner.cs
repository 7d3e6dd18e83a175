using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Storage;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Cli;

/// <summary>
/// Verbs on the site's own executable: <c>Cimef.Site &lt;verb&gt; [--option value]…</c>.
/// Each applies migrations first and works beside a running site on the same data directory.
/// </summary>
public static class CliRunner
{
    private static readonly Dictionary<string, string> Usage = new()
    {
        ["create-staff"] = "create-staff --email EMAIL --name \"NOM\" --role Admin|Secretary|Doctor|Accountant|Integration --password MOTDEPASSE",
        ["create-api-token"] = "create-api-token --email EMAIL --name NOM_DU_JETON [--days N (défaut 365)]",
        ["list-api-tokens"] = "list-api-tokens",
        ["revoke-api-token"] = "revoke-api-token --id N",
        ["seed-demo"] = "seed-demo",
        ["backup"] = "backup --out DOSSIER (sans certificat) | --out FICHIER.p7m ou DOSSIER (avec Backup:RecipientCertificate, Backup:SigningCertificate et Backup:SigningKey)",
        ["restore"] = "restore --from DOSSIER | --from FICHIER.p7m --key CLE_PRIVEE.pem --signer CERTIFICAT_DE_SIGNATURE.pem",
        ["check"] = "check",
        ["migrate-to"] = "migrate-to --connection \"Host=…;Database=…;Username=…;Password=…\" (copie la base SQLite dans une base PostgreSQL neuve)",
        ["help"] = "help",
    };

    /// <summary>The verb if args start with one (or with an unknown word that is not an option), else null (run the site).</summary>
    public static string? VerbOf(string[] args) =>
        args.Length > 0 && !args[0].StartsWith('-') && !args[0].Contains('=') ? args[0] : null;

    public static async Task<int> RunAsync(IServiceProvider services, string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var stdout = output ?? Console.Out;
        var stderr = error ?? Console.Error;
        var verb = args[0];
        if (!Usage.ContainsKey(verb) || verb == "help")
            return PrintUsage(stderr, verb == "help" ? null : $"Commande inconnue : {verb}");

        if (!TryParseOptions(args.Skip(1).ToArray(), out var opts, out var parseError))
            return PrintUsage(stderr, parseError, verb);

        try
        {
            // migrate-to reads the SQLite file as it is and writes only to the database it is given.
            if (verb == "migrate-to")
            {
                await using var migrateScope = services.CreateAsyncScope();
                return Require(opts, stderr, verb, "connection")
                    ?? await MigrateTo.RunAsync(migrateScope.ServiceProvider, opts["connection"], stdout, stderr);
            }
            await DatabaseStartup.InitializeAsync(services);
            await using var scope = services.CreateAsyncScope();
            var sp = scope.ServiceProvider;
            return verb switch
            {
                "create-staff" => await CreateStaffAsync(sp, opts, stdout, stderr),
                "create-api-token" => await CreateApiTokenAsync(sp, opts, stdout, stderr),
                "list-api-tokens" => await ListApiTokensAsync(sp, stdout),
                "revoke-api-token" => await RevokeApiTokenAsync(sp, opts, stdout, stderr),
                "seed-demo" => await DemoSeed.RunAsync(sp, stdout, stderr),
                "backup" => Require(opts, stderr, verb, "out") ?? await BackupRestore.BackupAsync(sp, opts["out"], stdout, stderr),
                "restore" => Require(opts, stderr, verb, "from") ?? await BackupRestore.RestoreAsync(sp, opts["from"], opts.GetValueOrDefault("key"), opts.GetValueOrDefault("signer"), stdout, stderr),
                "check" => await CheckAsync(sp, stdout, stderr),
                _ => PrintUsage(stderr, null),
            };
        }
        catch (OptionsValidationException e)
        {
            await stderr.WriteLineAsync("Configuration invalide : " + string.Join(" ", e.Failures));
            return 3;
        }
        catch (StartupRefusedException e)
        {
            await stderr.WriteLineAsync(e.Message);
            return 3;
        }
    }

    private static int PrintUsage(TextWriter w, string? problem, string? verb = null)
    {
        if (problem is not null) w.WriteLine(problem);
        w.WriteLine("Usage : Cimef.Site <commande> [options]   (sans commande : démarre le site)");
        foreach (var (name, usage) in Usage)
            if (verb is null || name == verb) w.WriteLine("  " + usage);
        return 2;
    }

    private static bool TryParseOptions(string[] rest, out Dictionary<string, string> opts, out string? error)
    {
        opts = new(StringComparer.OrdinalIgnoreCase);
        error = null;
        for (var i = 0; i < rest.Length; i++)
        {
            if (!rest[i].StartsWith("--") || rest[i].Length < 3) { error = $"Argument inattendu : {rest[i]}"; return false; }
            var name = rest[i][2..];
            if (i + 1 >= rest.Length || rest[i + 1].StartsWith("--")) { error = $"Valeur manquante pour --{name}"; return false; }
            opts[name] = rest[++i];
        }
        return true;
    }

    private static int? Require(Dictionary<string, string> opts, TextWriter stderr, string verb, params string[] names)
    {
        var missing = names.Where(n => !opts.TryGetValue(n, out var v) || string.IsNullOrWhiteSpace(v)).ToList();
        if (missing.Count == 0) return null;
        return PrintUsage(stderr, "Option(s) manquante(s) : " + string.Join(", ", missing.Select(m => "--" + m)), verb);
    }

    private static async Task<int> CreateStaffAsync(IServiceProvider sp, Dictionary<string, string> o, TextWriter stdout, TextWriter stderr)
    {
        if (Require(o, stderr, "create-staff", "email", "name", "role", "password") is int bad) return bad;
        var role = Roles.All.FirstOrDefault(r => string.Equals(r, o["role"], StringComparison.OrdinalIgnoreCase)) ?? o["role"];
        var result = await StaffAccounts.CreateAsync(sp, o["email"], o["name"], role, o["password"]);
        if (!result.Succeeded)
        {
            foreach (var e in result.Errors) await stderr.WriteLineAsync(e.Description);
            return 1;
        }
        await stdout.WriteLineAsync($"Compte créé : {o["email"]} ({Roles.French(role)}).");
        return 0;
    }

    // Actions taken from the command line are audited under this name (there is no signed-in staff member).
    private const string CliActor = "ligne de commande";

    private static async Task<int> CreateApiTokenAsync(IServiceProvider sp, Dictionary<string, string> o, TextWriter stdout, TextWriter stderr)
    {
        if (Require(o, stderr, "create-api-token", "email", "name") is int bad) return bad;
        var days = ApiTokens.DefaultDays;
        if (o.TryGetValue("days", out var d) && (!int.TryParse(d, out days) || days is < 1 or > ApiTokens.MaxDays))
            return PrintUsage(stderr, $"--days doit être un nombre entier de jours entre 1 et {ApiTokens.MaxDays}.", "create-api-token");
        var users = sp.GetRequiredService<UserManager<StaffUser>>();
        var user = await users.FindByEmailAsync(o["email"]);
        if (user is null || user.IsDisabled)
        {
            await stderr.WriteLineAsync($"Aucun compte actif pour {o["email"]}.");
            return 1;
        }
        var db = sp.GetRequiredService<CimefDb>();
        var now = sp.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var token = ApiTokens.Create(db, user, o["name"], days, now, null, CliActor);
        await db.SaveChangesAsync();
        await stdout.WriteLineAsync($"Jeton créé, valable jusqu'au {now.AddDays(days):yyyy-MM-dd HH:mm} UTC (il ne sera plus affiché) :");
        await stdout.WriteLineAsync(token);
        return 0;
    }

    private static async Task<int> ListApiTokensAsync(IServiceProvider sp, TextWriter stdout)
    {
        var rows = await ApiTokens.ListAsync(sp.GetRequiredService<CimefDb>());
        static string At(DateTime? t) => t is null ? "-" : t.Value.ToString("yyyy-MM-dd HH:mm");
        // Tab-separated with a header line: readable in a terminal, easy to cut/awk. The token itself is never stored.
        await stdout.WriteLineAsync("id\tnom\tpropriétaire\tcréé (UTC)\texpire (UTC)\tdernier usage (UTC)\trévoqué (UTC)");
        foreach (var r in rows)
            await stdout.WriteLineAsync($"{r.Id}\t{r.Name}\t{r.OwnerEmail}\t{At(r.CreatedAt)}\t{At(r.ExpiresAt)}\t{At(r.LastUsedAt)}\t{At(r.RevokedAt)}");
        await stdout.WriteLineAsync($"{rows.Count} jeton(s).");
        return 0;
    }

    private static async Task<int> RevokeApiTokenAsync(IServiceProvider sp, Dictionary<string, string> o, TextWriter stdout, TextWriter stderr)
    {
        if (Require(o, stderr, "revoke-api-token", "id") is int bad) return bad;
        if (!int.TryParse(o["id"], out var id) || id < 1)
            return PrintUsage(stderr, "--id doit être le numéro du jeton (voir list-api-tokens).", "revoke-api-token");
        var now = sp.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var (outcome, token) = await ApiTokens.RevokeAsync(sp.GetRequiredService<CimefDb>(), id, now, null, CliActor);
        switch (outcome)
        {
            case ApiTokens.RevokeOutcome.NotFound:
                await stderr.WriteLineAsync($"Aucun jeton n° {id}.");
                return 1;
            case ApiTokens.RevokeOutcome.AlreadyRevoked:
                await stdout.WriteLineAsync($"Le jeton n° {id} ({token!.Name}) était déjà révoqué.");
                return 0;
            default:
                await stdout.WriteLineAsync($"Jeton n° {id} ({token!.Name}) révoqué.");
                return 0;
        }
    }

    private static async Task<int> CheckAsync(IServiceProvider sp, TextWriter stdout, TextWriter stderr)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var db = sp.GetRequiredService<CimefDb>();
        var failed = false;

        if (db.Database.IsSqlite())
        {
            var integrity = Sqlite.IntegrityCheck(storage.DatabasePath);
            await stdout.WriteLineAsync($"Base de données : integrity_check = {integrity}");
            if (integrity != "ok") failed = true;

            var (journal, sync, fk) = Sqlite.EnsureAndRead(storage.DatabasePath);
            await stdout.WriteLineAsync($"Pragmas : journal_mode={journal}, synchronous={sync}, foreign_keys={(fk ? 1 : 0)}");
        }
        else
        {
            var pending = (await db.Database.GetPendingMigrationsAsync()).Count();
            await stdout.WriteLineAsync($"Base de données : PostgreSQL joignable, migrations en attente : {pending}");
            if (pending > 0) failed = true;

            // Every table read to the end (a damaged page or TOAST entry fails here), rows counted per table.
            var tables = db.Model.GetEntityTypes().Where(t => t.GetTableName() is not null && t.GetViewName() is null)
                .Select(t => t.GetTableName()!).Distinct().Order(StringComparer.Ordinal).ToList();
            var connection = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync();
            long rows = 0;
            var unreadable = new List<string>();
            foreach (var table in tables)
            {
                try
                {
                    await using var cmd = connection.CreateCommand();
                    cmd.CommandText = $"SELECT COUNT(*), SUM(length(t::text)) FROM \"{table}\" t";
                    await using var r = await cmd.ExecuteReaderAsync();
                    await r.ReadAsync();
                    rows += r.GetInt64(0);
                }
                catch (Npgsql.PostgresException e)
                {
                    unreadable.Add($"{table} ({e.MessageText})");
                }
            }
            await stdout.WriteLineAsync($"Tables lues : {tables.Count}, lignes : {rows}, illisibles : {unreadable.Count}");
            foreach (var u in unreadable) await stderr.WriteLineAsync("  table illisible : " + u);
            if (unreadable.Count > 0) failed = true;
        }

        // Not a failure (a site without a proxy is fine), but behind one every patient would share one address.
        if (sp.GetRequiredService<IOptions<NetworkOptions>>().Value.KnownProxies.Length == 0)
            await stdout.WriteLineAsync("Attention : Network:KnownProxies est vide, les en-têtes X-Forwarded-For sont ignorés. "
                + "Si un proxy inverse est placé devant le site, tous les patients partagent son adresse (limites de connexion communes) : déclarez-le dans Network:KnownProxies.");

        // Refused at the site's start; accepted (AllowUnprotected, Development) it is still worth saying.
        if (Data.KeyRing.Unprotected(sp) is { } keyRing)
        {
            if (keyRing.Refused)
            {
                await stderr.WriteLineAsync("Trousseau de clés non protégé, le site refusera de démarrer : " + keyRing.Message);
                failed = true;
            }
            else await stdout.WriteLineAsync("Attention : " + keyRing.Message);
        }

        var now = sp.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var problems = await IntegrityCheck.RunAsync(db, sp.GetRequiredService<ReportStore>(), now);
        var total = await db.PatientReports.CountAsync(r => r.IsActive);
        await stdout.WriteLineAsync($"Rapports actifs vérifiés : {total}, problèmes : {problems.Count}");
        foreach (var p in problems)
            await stderr.WriteLineAsync($"  rapport {p.ReportId} : {(p.Status == FileIntegrity.Missing ? "fichier manquant" : "fichier modifié")} ({p.StoredFileName})");
        if (problems.Count > 0) failed = true;

        // A process killed between a file's rename and its row's commit leaves a complete file no row points to:
        // harmless (unreachable) and never deleted here, since a running site may be about to commit it.
        var store = sp.GetRequiredService<ReportStore>();
        var known = (await db.PatientReports.Select(r => r.StoredFileName).ToListAsync()).ToHashSet(StringComparer.Ordinal);
        known.UnionWith(await db.ImagingStudies.Where(i => i.ArchiveFile != null).Select(i => i.ArchiveFile!).ToListAsync());
        var orphans = new List<string>();
        await foreach (var name in store.ListAsync())
            if (!known.Contains(name) && !Imaging.StudyImages.IsCached(name)) orphans.Add(name);
        await stdout.WriteLineAsync($"Fichiers sans rapport associé (sans danger, à examiner) : {orphans.Count}");
        foreach (var f in orphans.Take(20)) await stdout.WriteLineAsync("  " + f);

        await stdout.WriteLineAsync(failed ? "ÉCHEC" : "OK");
        return failed ? 1 : 0;
    }
}
