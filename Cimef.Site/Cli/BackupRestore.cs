using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Cimef.Site.Data;
using Cimef.Site.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Cli;

/// <summary>
/// <c>backup</c>: the database (SQLite online backup API, consistent while the site runs), the reports folder
/// and the key ring, written together with a manifest of SHA-256 sums, then verified. <c>restore</c> verifies a
/// backup first, then copies it back (database through the backup API, so a running site sees a consistent file).
/// With <c>Backup:RecipientCertificate</c> the folder is packed as tar, signed with the clinic's signing key
/// (<c>Backup:SigningCertificate</c>, <c>Backup:SigningKey</c>) and written as one CMS file (<see cref="BackupEnvelope"/>);
/// restore decrypts it with the private key (<c>--key</c>) into a private staging folder, checks the signature against
/// the certificate the operator names (<c>--signer</c>), and only then unpacks and verifies it there, before anything
/// in the data directory is touched.
/// </summary>
public static class BackupRestore
{
    private const string ManifestName = "manifest.json";
    private const string DatabaseName = "cimef.db";
    /// <summary>PostgreSQL: the database as a pg_dump custom-format archive (<c>-Fc</c>) in place of the SQLite file.</summary>
    private const string DumpName = "cimef.dump";

    /// <summary>A step that cannot be done (a client tool missing or failing), with its French explanation.</summary>
    private sealed class BackupException(string message) : Exception(message);

    private sealed record Manifest(DateTime CreatedAt, string Database, Dictionary<string, string> Files, long Bytes);

    public static async Task<int> BackupAsync(IServiceProvider sp, string outPath, TextWriter stdout, TextWriter stderr)
    {
        var options = sp.GetRequiredService<IOptions<BackupOptions>>().Value;
        if (!string.IsNullOrWhiteSpace(options.RecipientCertificate)) return await EncryptedBackupAsync(sp, options, outPath, stdout, stderr);

        var warning = "ATTENTION : aucun certificat de sauvegarde (Backup:RecipientCertificate) : cette copie n'est pas chiffrée, "
            + "quiconque la détient lit les rapports et les mots de passe des patients (base, trousseau de clés et secret HMAC).";
        await stderr.WriteLineAsync(warning);
        sp.GetRequiredService<ILoggerFactory>().CreateLogger("Cimef.Backup").LogWarning("{Warning}", warning);

        var target = Path.GetFullPath(outPath);
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            await stderr.WriteLineAsync($"Le dossier {target} n'est pas vide : choisissez un dossier neuf.");
            return 1;
        }
        var sw = Stopwatch.StartNew();
        var partial = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var (files, bytes) = await WriteFolderAsync(sp, partial);
            var problem = await VerifyAsync(partial);
            if (problem is not null)
            {
                await stderr.WriteLineAsync("Sauvegarde invalide : " + problem);
                return 1;
            }
            if (Directory.Exists(target)) Directory.Delete(target);
            Directory.Move(partial, target);
            var seconds = Math.Max(sw.Elapsed.TotalSeconds, 0.001);
            await stdout.WriteLineAsync($"Sauvegarde vérifiée : {target} ({files} fichiers, {bytes / 1048576.0:0.0} Mo, {bytes / 1048576.0 / seconds:0.0} Mo/s)");
            return 0;
        }
        catch (BackupException e)
        {
            await stderr.WriteLineAsync("Sauvegarde impossible : " + e.Message);
            return 1;
        }
        finally
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
        }
    }

    /// <summary>
    /// The same verified folder, built in a private staging folder inside the data directory (never on the backup
    /// medium in clear), packed as tar, signed with the clinic's key and written as one CMS archive only the recipient
    /// certificate's private key opens.
    /// </summary>
    private static async Task<int> EncryptedBackupAsync(IServiceProvider sp, BackupOptions options, string outPath, TextWriter stdout, TextWriter stderr)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var time = sp.GetRequiredService<TimeProvider>();
        var certificatePath = options.RecipientCertificate!;
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.GetFullPath(certificatePath)));
            if (certificate.GetRSAPublicKey() is null) throw new CryptographicException("not RSA");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            await stderr.WriteLineAsync($"Certificat de sauvegarde illisible ({certificatePath}) : un certificat X.509 RSA au format PEM est attendu.");
            return 1;
        }
        using var _ = certificate;

        // Without a signature restore refuses the archive: the recipient certificate is public, anyone can encrypt for it.
        if (string.IsNullOrWhiteSpace(options.SigningCertificate) || string.IsNullOrWhiteSpace(options.SigningKey))
        {
            await stderr.WriteLineAsync("Sauvegarde impossible : Backup:SigningCertificate et Backup:SigningKey (certificat et clé privée PEM qui signent "
                + "chaque sauvegarde) sont requis avec Backup:RecipientCertificate ; restore refuse une archive non signée (voir « Garde des clés » dans le README).");
            return 1;
        }
        X509Certificate2 signer;
        try
        {
            signer = X509Certificate2.CreateFromPemFile(Path.GetFullPath(options.SigningCertificate), Path.GetFullPath(options.SigningKey));
            if (!BackupEnvelope.CanVerifyWith(signer)) throw new CryptographicException("neither RSA nor ECDSA");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            await stderr.WriteLineAsync($"Certificat ou clé de signature illisible ({options.SigningCertificate}, {options.SigningKey}) : un certificat X.509 "
                + "RSA ou ECDSA et sa clé privée, au format PEM, non protégée par mot de passe, de la même paire, sont attendus.");
            return 1;
        }
        using var __ = signer;

        var target = Path.GetFullPath(outPath);
        // A name ending in .p7m is the archive itself; anything else is a folder (created if needed) that receives one.
        if (!target.EndsWith(".p7m", StringComparison.OrdinalIgnoreCase)) target = Path.Combine(target, $"cimef-{time.GetUtcNow():yyyyMMdd-HHmmss}.p7m");
        if (File.Exists(target))
        {
            await stderr.WriteLineAsync($"Le fichier {target} existe déjà : choisissez un nom neuf.");
            return 1;
        }
        var sw = Stopwatch.StartNew();
        var staging = Path.Combine(storage.BackupsDirectory, ".staging-" + Guid.NewGuid().ToString("N")[..8]);
        var partial = target + ".partial-" + Guid.NewGuid().ToString("N")[..8];
        try
        {
            var content = Path.Combine(staging, "content");
            var (files, bytes) = await WriteFolderAsync(sp, content);
            var problem = await VerifyAsync(content);
            if (problem is not null)
            {
                await stderr.WriteLineAsync("Sauvegarde invalide : " + problem);
                return 1;
            }
            var tar = Path.Combine(staging, "backup.tar");
            await TarFile.CreateFromDirectoryAsync(content, tar, includeBaseDirectory: false);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using (var plain = File.OpenRead(tar))
            await using (var output = PrivateFiles.CreateNew(partial, 1 << 16))
            {
                await BackupEnvelope.SignAndEncryptAsync(plain, signer, certificate, output, time.GetUtcNow());
                output.Flush(flushToDisk: true);
            }
            File.Move(partial, target);
            var seconds = Math.Max(sw.Elapsed.TotalSeconds, 0.001);
            await stdout.WriteLineAsync($"Sauvegarde vérifiée, signée et chiffrée pour « {certificate.Subject} » : {target} ({files} fichiers, {bytes / 1048576.0:0.0} Mo, {bytes / 1048576.0 / seconds:0.0} Mo/s)");
            return 0;
        }
        catch (BackupException e)
        {
            await stderr.WriteLineAsync("Sauvegarde impossible : " + e.Message);
            return 1;
        }
        finally
        {
            if (File.Exists(partial)) File.Delete(partial);
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// The database (SQLite: online backup; PostgreSQL: pg_dump -Fc, one consistent snapshot while the site runs), the
    /// reports and the key ring into a new folder, with the manifest of SHA-256 sums.
    /// </summary>
    private static async Task<(int Files, long Bytes)> WriteFolderAsync(IServiceProvider sp, string dir)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var time = sp.GetRequiredService<TimeProvider>();
        PrivateFiles.CreateDirectory(dir);
        string dbFile;
        if (database.IsPostgres)
        {
            dbFile = Path.Combine(dir, DumpName);
            var pgDump = PostgresTools.Find("pg_dump") ?? throw new BackupException(PostgresTools.Missing("pg_dump"));
            var dump = await PostgresTools.RunAsync(pgDump, database.ConnectionString!, "--format=custom", "--no-password", "--file", dbFile);
            if (dump.ExitCode != 0) throw new BackupException($"pg_dump a échoué ({dump.ExitCode}) : {dump.Stderr.Trim()}");
            PrivateFiles.RestrictFile(dbFile);
        }
        else
        {
            dbFile = Path.Combine(dir, DatabaseName);
            Sqlite.OnlineBackup(storage.DatabasePath, dbFile);
        }
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        long bytes = new FileInfo(dbFile).Length;
        bytes += await CopyReportsOutAsync(sp.GetRequiredService<ReportStore>(), Path.Combine(dir, "reports"), files);
        bytes += await CopyTreeAsync(storage.KeysDirectory, Path.Combine(dir, "keys"), "keys", files, skipTemp: true);
        var manifest = new Manifest(time.GetUtcNow().UtcDateTime, await Sha256Async(dbFile), files, bytes);
        await File.WriteAllTextAsync(Path.Combine(dir, ManifestName), JsonSerializer.Serialize(manifest, new JsonSerializerOptions { WriteIndented = true }));
        return (files.Count, bytes);
    }

    public static async Task<int> RestoreAsync(IServiceProvider sp, string from, string? keyPath, string? signerPath, TextWriter stdout, TextWriter stderr)
    {
        var source = Path.GetFullPath(from);
        if (Directory.Exists(source)) return await RestoreFolderAsync(sp, source, source, stdout, stderr);
        if (!File.Exists(source))
        {
            await stderr.WriteLineAsync($"Restauration refusée : {source} introuvable.");
            return 1;
        }
        if (string.IsNullOrWhiteSpace(keyPath))
        {
            await stderr.WriteLineAsync("Restauration refusée : cette sauvegarde est chiffrée, indiquez la clé privée avec --key CLE.pem.");
            return 2;
        }
        if (string.IsNullOrWhiteSpace(signerPath))
        {
            await stderr.WriteLineAsync("Restauration refusée : indiquez le certificat de signature des sauvegardes avec --signer SIGNATURE.crt "
                + "(la copie gardée hors du serveur avec la clé privée, jamais celle du serveur).");
            return 2;
        }
        using var key = RSA.Create();
        try
        {
            key.ImportFromPem(await File.ReadAllTextAsync(Path.GetFullPath(keyPath)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            await stderr.WriteLineAsync($"Restauration refusée : clé privée illisible ({keyPath}). Une clé RSA PEM non protégée par mot de passe est attendue "
                + "(openssl pkey -in cle-protegee.pem -out cle.pem).");
            return 1;
        }
        X509Certificate2 signer;
        try
        {
            signer = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.GetFullPath(signerPath)));
            if (!BackupEnvelope.CanVerifyWith(signer)) throw new CryptographicException("neither RSA nor ECDSA");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or CryptographicException)
        {
            await stderr.WriteLineAsync($"Restauration refusée : certificat de signature illisible ({signerPath}). Un certificat X.509 RSA ou ECDSA au format PEM est attendu.");
            return 1;
        }
        using var _ = signer;

        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var staging = Path.Combine(storage.BackupsDirectory, ".restore-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            PrivateFiles.CreateDirectory(staging);
            var tar = Path.Combine(staging, "backup.tar");
            DateTimeOffset? signedAt;
            // Nothing is unpacked before the signature is checked: the tar stays in the private staging folder until then.
            await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            await using (var plain = PrivateFiles.CreateNew(tar, 1 << 16))
                signedAt = await BackupEnvelope.DecryptAndVerifyAsync(input, key, signer, plain);
            await stdout.WriteLineAsync($"Signature vérifiée ({signer.Subject}{(signedAt is { } at ? $", signée le {at.UtcDateTime:yyyy-MM-dd HH:mm} UTC" : "")}).");
            var content = Path.Combine(staging, "content");
            PrivateFiles.CreateDirectory(content);
            await RefuseLinksAsync(tar);
            await TarFile.ExtractToDirectoryAsync(tar, content, overwriteFiles: false);
            return await RestoreFolderAsync(sp, content, source, stdout, stderr);
        }
        catch (BackupEnvelope.EnvelopeException e)
        {
            await stderr.WriteLineAsync("Restauration refusée, rien n'a été modifié : " + e.Message + ".");
            return 1;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            await stderr.WriteLineAsync("Restauration refusée, rien n'a été modifié : archive illisible (" + e.Message + ").");
            return 1;
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Only folders and plain files: the certificate is public, so anyone can make an archive that opens, and a link
    /// entry would make the restore copy a file from elsewhere on the server into the data directory.
    /// </summary>
    private static async Task RefuseLinksAsync(string tar)
    {
        await using var file = File.OpenRead(tar);
        await using var reader = new TarReader(file);
        while (await reader.GetNextEntryAsync() is { } entry)
            if (entry.EntryType is not (TarEntryType.Directory or TarEntryType.RegularFile or TarEntryType.V7RegularFile))
                throw new InvalidDataException($"entrée non prise en charge ({entry.EntryType}) : {entry.Name}");
    }

    private static async Task<int> RestoreFolderAsync(IServiceProvider sp, string source, string shownAs, TextWriter stdout, TextWriter stderr)
    {
        var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
        var problem = await VerifyAsync(source);
        if (problem is not null)
        {
            await stderr.WriteLineAsync("Restauration refusée, sauvegarde invalide : " + problem);
            return 1;
        }
        var database = sp.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var isDump = File.Exists(Path.Combine(source, DumpName));
        if (isDump != database.IsPostgres)
        {
            await stderr.WriteLineAsync(isDump
                ? "Restauration refusée, rien n'a été modifié : cette sauvegarde vient d'une base PostgreSQL (pg_dump) et le site est configuré sur SQLite (Database:Provider)."
                : "Restauration refusée, rien n'a été modifié : cette sauvegarde vient d'une base SQLite et le site est configuré sur PostgreSQL ; pour y copier une clinique SQLite, utilisez migrate-to.");
            return 1;
        }
        if (isDump)
        {
            // One transaction: on any error pg_restore rolls everything back and the database is as it was.
            var pgRestore = PostgresTools.Find("pg_restore");
            if (pgRestore is null)
            {
                await stderr.WriteLineAsync("Restauration refusée, rien n'a été modifié : " + PostgresTools.Missing("pg_restore"));
                return 1;
            }
            var target = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString);
            var restored = await PostgresTools.RunAsync(pgRestore, database.ConnectionString!, "--clean", "--if-exists", "--no-owner",
                "--single-transaction", "--exit-on-error", "--no-password", "--dbname", target.Database ?? "", Path.Combine(source, DumpName));
            Npgsql.NpgsqlConnection.ClearAllPools();
            if (restored.ExitCode != 0)
            {
                await stderr.WriteLineAsync($"Restauration refusée, rien n'a été modifié : pg_restore a échoué ({restored.ExitCode}) : {restored.Stderr.Trim()}");
                return 1;
            }
        }
        else
        {
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
        }
        var files = new Dictionary<string, string>();
        await CopyReportsInAsync(Path.Combine(source, "reports"), sp.GetRequiredService<ReportStore>(), files);
        await CopyTreeAsync(Path.Combine(source, "keys"), storage.KeysDirectory, "keys", files, skipTemp: true);
        PrivateFiles.Restrict(storage.Root);
        await stdout.WriteLineAsync($"Restauration terminée depuis {shownAs} ({files.Count} fichiers).");
        return 0;
    }

    /// <summary>Null when the backup is complete and intact, else what is wrong (in French).</summary>
    public static async Task<string?> VerifyAsync(string dir)
    {
        var manifestPath = Path.Combine(dir, ManifestName);
        if (!File.Exists(manifestPath)) return "manifeste absent";
        var manifest = JsonSerializer.Deserialize<Manifest>(await File.ReadAllTextAsync(manifestPath));
        if (manifest is null) return "manifeste illisible";
        var dump = Path.Combine(dir, DumpName);
        if (File.Exists(dump))
        {
            if (await Sha256Async(dump) != manifest.Database) return "base de données modifiée";
            // The archive's table of contents is read in full (no server needed): a truncated or foreign file fails here.
            var pgRestore = PostgresTools.Find("pg_restore");
            if (pgRestore is null) return PostgresTools.Missing("pg_restore");
            var list = await PostgresTools.RunAsync(pgRestore, null, "--list", dump);
            if (list.ExitCode != 0) return "archive pg_dump illisible : " + list.Stderr.Trim();
            return await VerifyFilesAsync(dir, manifest);
        }
        var db = Path.Combine(dir, DatabaseName);
        if (!File.Exists(db)) return "base de données absente";
        if (await Sha256Async(db) != manifest.Database) return "base de données modifiée";
        var check = Sqlite.IntegrityCheck(db);
        SqliteConnection.ClearAllPools();
        if (check != "ok") return "integrity_check : " + check;
        return await VerifyFilesAsync(dir, manifest);
    }

    private static async Task<string?> VerifyFilesAsync(string dir, Manifest manifest)
    {
        foreach (var (relative, sum) in manifest.Files)
        {
            var path = Path.Combine(dir, relative);
            if (!File.Exists(path)) return $"fichier absent : {relative}";
            if (await Sha256Async(path) != sum) return $"fichier modifié : {relative}";
        }
        return null;
    }

    /// <summary>
    /// Every stored report (file system or S3, through the same <see cref="ReportStore"/>) streamed into the backup
    /// folder under its stored name, hashed for the manifest. Temp uploads are not listed, so never copied.
    /// </summary>
    private static async Task<long> CopyReportsOutAsync(ReportStore store, string destination, Dictionary<string, string> files)
    {
        long bytes = 0;
        Directory.CreateDirectory(destination);
        await foreach (var name in store.ListAsync())
        {
            var opened = await store.OpenReadAsync(name);
            if (opened is null) continue; // deleted since it was listed (a failed upload's row never committed)
            var target = Path.Combine(destination, name);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using (var content = opened.Content)
            await using (var file = PrivateFiles.CreateNew(target, 1 << 16))
                await content.CopyToAsync(file, 1 << 16);
            files["reports/" + name] = await Sha256Async(target);
            bytes += opened.Length;
        }
        return bytes;
    }

    /// <summary>The backup's (already verified) report files written back through the store: to the folder or the bucket.</summary>
    private static async Task CopyReportsInAsync(string source, ReportStore store, Dictionary<string, string> files)
    {
        if (!Directory.Exists(source)) return;
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetRelativePath(source, file).Replace('\\', '/');
            if (name.Split('/').Any(s => s.StartsWith('.')) || name.EndsWith(".tmp", StringComparison.Ordinal)) continue;
            await using (var content = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
                await store.PutAsync(name, content);
            files["reports/" + name] = "";
        }
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
