using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Cimef.Site.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Cli;

/// <summary>
/// <c>backup</c>: the database (SQLite online backup API, consistent while the site runs), the reports folder
/// and the key ring, written together with a manifest of SHA-256 sums, then verified. <c>restore</c> verifies a
/// backup first, then copies it back (database through the backup API, so a running site sees a consistent file).
/// </summary>
public static class BackupRestore
{
    private const string ManifestName = "manifest.json";
    private const string DatabaseName = "cimef.db";

    private sealed record Manifest(DateTime CreatedAt, string Database, Dictionary<string, string> Files, long Bytes);

    public static async Task<int> BackupAsync(IServiceProvider sp, string outDir, TextWriter stdout, TextWriter stderr)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var time = sp.GetRequiredService<TimeProvider>();
        var target = Path.GetFullPath(outDir);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            await stderr.WriteLineAsync($"Le dossier {target} n'est pas vide : choisissez un dossier neuf.");
            return 1;
        }
        var sw = Stopwatch.StartNew();
        var partial = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            Directory.CreateDirectory(partial);
            Sqlite.OnlineBackup(storage.DatabasePath, Path.Combine(partial, DatabaseName));
            var files = new Dictionary<string, string>(StringComparer.Ordinal);
            long bytes = new FileInfo(Path.Combine(partial, DatabaseName)).Length;
            foreach (var (source, name) in new[] { (storage.ReportsDirectory, "reports"), (storage.KeysDirectory, "keys") })
                bytes += await CopyTreeAsync(source, Path.Combine(partial, name), name, files, skipTemp: true);
            var manifest = new Manifest(time.GetUtcNow().UtcDateTime, await Sha256Async(Path.Combine(partial, DatabaseName)), files, bytes);
            await File.WriteAllTextAsync(Path.Combine(partial, ManifestName), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));

            var problem = await VerifyAsync(partial);
            if (problem is not null)
            {
                await stderr.WriteLineAsync("Sauvegarde invalide : " + problem);
                return 1;
            }
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(partial, target);
            var seconds = Math.Max(sw.Elapsed.TotalSeconds, 0.001);
            await stdout.WriteLineAsync($"Sauvegarde vérifiée : {target} ({files.Count} fichiers, {bytes / 1048576.0:0.0} Mo, {bytes / 1048576.0 / seconds:0.0} Mo/s)");
            return 0;
        }
        finally
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        }
    }

    public static async Task<int> RestoreAsync(IServiceProvider sp, string fromDir, TextWriter stdout, TextWriter stderr)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var source = Path.GetFullPath(fromDir);
        var problem = await VerifyAsync(source);
        if (problem is not null)
        {
            await stderr.WriteLineAsync("Restauration refusée, sauvegarde invalide : " + problem);
            return 1;
        }
        // Database first, through the online backup API (a running site keeps a consistent view).
        using (var src = new SqliteConnection(Sqlite.ConnectionString(Path.Combine(source, DatabaseName))))
        using (var dst = new SqliteConnection(Sqlite.ConnectionString(storage.DatabasePath)))
        {
            src.Open();
            dst.Open();
            Sqlite.ApplyPragmas(dst);
            src.BackupDatabase(dst);
        }
        SqliteConnection.ClearAllPools();
        var files = new Dictionary<string, string>();
        await CopyTreeAsync(Path.Combine(source, "reports"), storage.ReportsDirectory, "reports", files, skipTemp: true);
        await CopyTreeAsync(Path.Combine(source, "keys"), storage.KeysDirectory, "keys", files, skipTemp: true);
        await stdout.WriteLineAsync($"Restauration terminée depuis {source} ({files.Count} fichiers).");
        return 0;
    }

    /// <summary>Null when the backup is complete and intact, else what is wrong (in French).</summary>
    public static async Task<string?> VerifyAsync(string dir)
    {
        var manifestPath = Path.Combine(dir, ManifestName);
        if (!File.Exists(manifestPath)) return "manifeste absent";
        var manifest = JsonSerializer.Deserialize<Manifest>(await File.ReadAllTextAsync(manifestPath));
        if (manifest is null) return "manifeste illisible";
        var db = Path.Combine(dir, DatabaseName);
        if (!File.Exists(db)) return "base de données absente";
        if (await Sha256Async(db) != manifest.Database) return "base de données modifiée";
        var check = Sqlite.IntegrityCheck(db);
        SqliteConnection.ClearAllPools();
        if (check != "ok") return "integrity_check : " + check;
        foreach (var (relative, sum) in manifest.Files)
        {
            var path = Path.Combine(dir, relative);
            if (!File.Exists(path)) return $"fichier absent : {relative}";
            if (await Sha256Async(path) != sum) return $"fichier modifié : {relative}";
        }
        return null;
    }

    private static async Task<long> CopyTreeAsync(string source, string destination, string prefix, Dictionary<string, string> files, bool skipTemp)
    {
        long bytes = 0;
        if (!Directory.Exists(source)) return 0;
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(file);
            if (skipTemp && (name.StartsWith('.') || name.EndsWith(".tmp", StringComparison.Ordinal))) continue;
            var relative = Path.GetRelativePath(source, file);
            var target = Path.Combine(destination, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            files[Path.Combine(prefix, relative).Replace('\\', '/')] = await Sha256Async(target);
            bytes += new FileInfo(target).Length;
        }
        return bytes;
    }

    private static async Task<string> Sha256Async(string path)
    {
        await using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(f));
    }
}
