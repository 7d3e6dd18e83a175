using System.Formats.Tar;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cimef.Site.Cli;
using Cimef.Site.Data;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Cimef.Site.Tests.Cli;

/// <summary>The CLI verbs, run as real processes on fresh data directories.</summary>
public class CliTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "cimef-cli-tests", Guid.NewGuid().ToString("N"));
    private string Data => Path.Combine(_root, "data");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Npgsql.NpgsqlConnection.ClearAllPools();
        TestDatabase.Release(Data);
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Unknown_verb_prints_usage_and_fails()
    {
        var r = await SiteProcess.RunAsync(Data, "frobnicate");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("Commande inconnue : frobnicate", r.Stderr);
        Assert.Contains("create-staff", r.Stderr);
    }

    [Fact]
    public async Task Create_staff_with_missing_or_bad_arguments_fails_with_usage()
    {
        var missing = await SiteProcess.RunAsync(Data, "create-staff", "--email", "a@cimef.test");
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Contains("--name", missing.Stderr);

        var badRole = await SiteProcess.RunAsync(Data, "create-staff", "--email", "a@cimef.test", "--name", "A", "--role", "Chef", "--password", "Longue-phrase-2026");
        Assert.NotEqual(0, badRole.ExitCode);
        Assert.Contains("Rôle inconnu", badRole.Stderr);

        var dangling = await SiteProcess.RunAsync(Data, "backup", "--out");
        Assert.NotEqual(0, dangling.ExitCode);
    }

    [Fact]
    public async Task Create_staff_then_api_token_gives_a_working_bearer_token_stored_hashed()
    {
        var staff = await SiteProcess.RunAsync(Data, "create-staff", "--email", "doc@cimef.test", "--name", "Dr Test", "--role", "doctor", "--password", "Radiologie-2026");
        Assert.True(staff.ExitCode == 0, staff.Stderr);
        var token = await SiteProcess.RunAsync(Data, "create-api-token", "--email", "doc@cimef.test", "--name", "RIS");
        Assert.True(token.ExitCode == 0, token.Stderr);
        var value = token.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();
        Assert.StartsWith("cimef_", value);

        using var factory = new CimefFactory();
        factory.Settings["Storage:DataDirectory"] = Data;
        var client = factory.NewClient();
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await client.GetAsync("/")).StatusCode);
        client.UseBearer(value);
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/")).StatusCode);
        client.UseBearer(value + "x");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/")).StatusCode);

        var stored = await factory.WithDbAsync(db => Task.FromResult(db.ApiTokens.Single().TokenHash));
        Assert.NotEqual(value, stored);
        Assert.Equal(64, stored.Length);
    }

    [Fact]
    public async Task Api_tokens_are_listed_without_the_secret_and_revoked_by_id_then_refused()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "create-staff", "--email", "ris@cimef.test", "--name", "RIS", "--role", "Doctor", "--password", "Radiologie-2026")).ExitCode);
        var badDays = await SiteProcess.RunAsync(Data, "create-api-token", "--email", "ris@cimef.test", "--name", "RIS", "--days", "zéro");
        Assert.Equal(2, badDays.ExitCode);
        Assert.Contains("--days doit être un nombre entier", badDays.Stderr);
        var created = await SiteProcess.RunAsync(Data, "create-api-token", "--email", "ris@cimef.test", "--name", "RIS-imagerie", "--days", "30");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var token = created.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Last();

        var list = await SiteProcess.RunAsync(Data, "list-api-tokens");
        Assert.True(list.ExitCode == 0, list.Stderr);
        Assert.DoesNotContain(token, list.Stdout);
        var row = list.Stdout.Split('\n').Single(l => l.Contains("RIS-imagerie")).Split('\t');
        Assert.Equal("ris@cimef.test", row[2]);
        var createdAt = DateTime.Parse(row[3], System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(createdAt.AddDays(30), DateTime.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("-", row[5].Trim()); // never used
        Assert.Equal("-", row[6].Trim()); // not revoked

        Assert.Equal(1, (await SiteProcess.RunAsync(Data, "revoke-api-token", "--id", "999")).ExitCode);
        var revoke = await SiteProcess.RunAsync(Data, "revoke-api-token", "--id", row[0]);
        Assert.True(revoke.ExitCode == 0, revoke.Stderr);
        Assert.Contains("révoqué", revoke.Stdout);
        var after = (await SiteProcess.RunAsync(Data, "list-api-tokens")).Stdout.Split('\n').Single(l => l.Contains("RIS-imagerie")).Split('\t');
        Assert.NotEqual("-", after[6].Trim());

        using var factory = new CimefFactory();
        factory.Settings["Storage:DataDirectory"] = Data;
        var client = factory.NewClient();
        client.UseBearer(token);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/")).StatusCode);
        var actions = await factory.WithDbAsync(db => Task.FromResult(db.AuditEntries.Where(a => a.Action.StartsWith("api_token.")).Select(a => a.Action + "/" + a.UserName).ToList()));
        Assert.Equal(["api_token.create/ligne de commande", "api_token.revoke/ligne de commande"], actions.Order());
    }

    [Fact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Backup_then_restore_gives_identical_row_counts_and_files()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var backupDir = Path.Combine(_root, "backup1");
        var backup = await SiteProcess.RunAsync(Data, "backup", "--out", backupDir);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Assert.Contains("Sauvegarde vérifiée", backup.Stdout);
        // No Backup:RecipientCertificate: the copy is made, with a warning that it is readable by whoever holds it.
        Assert.Contains("ATTENTION : aucun certificat de sauvegarde (Backup:RecipientCertificate)", backup.Stderr);
        var before = Counts();
        var filesBefore = ReportFiles();

        // Change things after the backup: a new staff member, a deleted report file.
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "create-staff", "--email", "x@cimef.test", "--name", "X", "--role", "Secretary", "--password", "Secretariat-2026")).ExitCode);
        File.Delete(Path.Combine(Data, "reports", filesBefore.Keys.First()));
        Assert.NotEqual(before, Counts());

        var restore = await SiteProcess.RunAsync(Data, "restore", "--from", backupDir);
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Equal(before, Counts());
        Assert.Equal(filesBefore, ReportFiles());
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "check")).ExitCode);
    }

    [Fact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Backup_refuses_a_non_empty_target_and_restore_refuses_a_tampered_backup()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var dir = Path.Combine(_root, "b");
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "backup", "--out", dir)).ExitCode);
        Assert.NotEqual(0, (await SiteProcess.RunAsync(Data, "backup", "--out", dir)).ExitCode);

        var counts = Counts();
        var report = Directory.EnumerateFiles(Path.Combine(dir, "reports"), "*", SearchOption.AllDirectories).First();
        var original = await File.ReadAllBytesAsync(report);
        await File.AppendAllTextAsync(report, "tampered");
        var restore = await SiteProcess.RunAsync(Data, "restore", "--from", dir);
        Assert.NotEqual(0, restore.ExitCode);
        Assert.Contains("fichier modifié", restore.Stderr);
        await File.WriteAllBytesAsync(report, original);

        // The database part (SQLite file or pg_dump archive) altered: refused before anything is touched.
        var database = new[] { "cimef.db", "cimef.dump" }.Select(n => Path.Combine(dir, n)).Single(File.Exists);
        Assert.Equal(TestDatabase.IsPostgres ? "cimef.dump" : "cimef.db", Path.GetFileName(database));
        var bytes = await File.ReadAllBytesAsync(database);
        bytes[bytes.Length / 2] ^= 0x55;
        await File.WriteAllBytesAsync(database, bytes);
        var damaged = await SiteProcess.RunAsync(Data, "restore", "--from", dir);
        Assert.Equal(1, damaged.ExitCode);
        Assert.Contains("base de données modifiée", damaged.Stderr);
        Assert.Equal(counts, Counts());
    }

    [Fact, Trait("Provider", "SqliteOnly")] // integrity_check and pragmas (PostgreSQL: Check_on_postgres_reads_every_table…)
    public async Task Check_passes_on_a_sound_install_and_fails_on_a_missing_or_altered_report_file()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var ok = await SiteProcess.RunAsync(Data, "check");
        Assert.True(ok.ExitCode == 0, ok.Stdout + ok.Stderr);
        Assert.Contains("integrity_check = ok", ok.Stdout);
        Assert.Contains("Network:KnownProxies est vide, les en-têtes X-Forwarded-For sont ignorés", ok.Stdout);

        var file = Path.Combine(Data, "reports", ReportFiles().Keys.First());
        var original = await File.ReadAllBytesAsync(file);
        await File.AppendAllTextAsync(file, "x");
        var altered = await SiteProcess.RunAsync(Data, "check");
        Assert.Equal(1, altered.ExitCode);
        Assert.Contains("fichier modifié", altered.Stderr);

        File.Delete(file);
        var missing = await SiteProcess.RunAsync(Data, "check");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("fichier manquant", missing.Stderr);

        await File.WriteAllBytesAsync(file, original);
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "check")).ExitCode);

        // A file no row points to (left by a kill between rename and commit) is listed, not an error.
        await File.WriteAllBytesAsync(Path.Combine(Data, "reports", "orphan.pdf"), original);
        var orphan = await SiteProcess.RunAsync(Data, "check");
        Assert.Equal(0, orphan.ExitCode);
        Assert.Contains("Fichiers sans rapport associé (sans danger, à examiner) : 1", orphan.Stdout);
        Assert.Contains("orphan.pdf", orphan.Stdout);
    }

    /// <summary>
    /// The clinic's two key pairs, as README's openssl commands make them: the recipient pair (its certificate configured
    /// on the server, its private key kept off it, for restore) and the signing pair (its private key configured on the
    /// server, its certificate kept off it, named with --signer).
    /// </summary>
    private sealed record BackupKeys(Dictionary<string, string> Env, string Certificate, string Key, string Signer, string SigningKey)
    {
        /// <summary>The restore command line with both of the operator's files.</summary>
        public string[] Restore(string archive) => ["restore", "--from", archive, "--key", Key, "--signer", Signer];
    }

    private BackupKeys Keys()
    {
        var (certificate, key) = SelfSigned("sauvegarde", "CN=Sauvegardes CIMEF");
        var (signer, signingKey) = SelfSigned("signature", "CN=Signature des sauvegardes CIMEF");
        var env = new Dictionary<string, string>
        {
            ["Backup__RecipientCertificate"] = certificate,
            ["Backup__SigningCertificate"] = signer,
            ["Backup__SigningKey"] = signingKey,
        };
        return new BackupKeys(env, certificate, key, signer, signingKey);
    }

    /// <summary>A self-signed RSA certificate (PEM) and its private key (PKCS#8 PEM), under the test's folder.</summary>
    private (string Certificate, string Key) SelfSigned(string name, string subject)
    {
        Directory.CreateDirectory(_root);
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        var certPath = Path.Combine(_root, name + ".crt");
        var keyPath = Path.Combine(_root, name + ".key");
        File.WriteAllText(certPath, cert.ExportCertificatePem());
        File.WriteAllText(keyPath, rsa.ExportPkcs8PrivateKeyPem());
        return (certPath, keyPath);
    }

    /// <summary>Runs openssl and fails the test with its error output when it fails.</summary>
    private static async Task OpensslAsync(params string[] args)
    {
        var (exitCode, stderr) = await RunOpensslAsync(args);
        Assert.True(exitCode == 0, $"openssl {string.Join(' ', args)}: {stderr}");
    }

    private static async Task<(int ExitCode, string Stderr)> RunOpensslAsync(params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(OpensslFactAttribute.Openssl) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        await stdout;
        return (p.ExitCode, stderr);
    }

    [Fact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Encrypted_backup_restores_with_the_right_key_only_and_a_wrong_key_changes_nothing()
    {
        var keys = Keys();
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var archive = Path.Combine(_root, "usb", "cimef.p7m");
        var backup = await SiteProcess.RunAsync(Data, keys.Env, "backup", "--out", archive);
        Assert.True(backup.ExitCode == 0, backup.Stderr);
        Assert.Contains("Sauvegarde vérifiée, signée et chiffrée", backup.Stdout);
        Assert.DoesNotContain("ATTENTION", backup.Stderr);
        Assert.Equal([archive], Directory.GetFiles(Path.GetDirectoryName(archive)!)); // one file, no clear-text leftovers
        var bytes = await File.ReadAllBytesAsync(archive);
        Assert.Equal(0x30, bytes[0]);
        Assert.Equal(-1, bytes.AsSpan().IndexOf("SQLite format 3"u8));
        Assert.Equal(-1, bytes.AsSpan().IndexOf("PGDMP"u8)); // pg_dump's custom format header
        Assert.Equal(-1, bytes.AsSpan().IndexOf("<key id="u8));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Data, "backups"), ".*"));
        var before = (Counts(), ReportFiles(), KeyFiles());

        // Change things after the backup: a new staff member, a deleted report file.
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "create-staff", "--email", "x@cimef.test", "--name", "X", "--role", "Secretary", "--password", "Secretariat-2026")).ExitCode);
        File.Delete(Path.Combine(Data, "reports", before.Item2.Keys.First()));
        var changed = (Counts(), ReportFiles(), KeyFiles());
        Assert.NotEqual(before.Item1, changed.Item1);

        var wrongKey = Path.Combine(_root, "autre.key");
        using (var other = RSA.Create(2048)) File.WriteAllText(wrongKey, other.ExportRSAPrivateKeyPem());
        var refused = await SiteProcess.RunAsync(Data, "restore", "--from", archive, "--key", wrongKey, "--signer", keys.Signer);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Restauration refusée, rien n'a été modifié : cette clé privée ne correspond pas", refused.Stderr);
        Assert.Equal(changed.Item1, Counts());
        Assert.Equal(changed.Item2, ReportFiles());
        Assert.Equal(changed.Item3, KeyFiles());

        var noKey = await SiteProcess.RunAsync(Data, "restore", "--from", archive, "--signer", keys.Signer);
        Assert.NotEqual(0, noKey.ExitCode);
        Assert.Contains("--key", noKey.Stderr);
        Assert.Equal(changed.Item1, Counts());

        var restore = await SiteProcess.RunAsync(Data, keys.Restore(archive));
        Assert.True(restore.ExitCode == 0, restore.Stderr);
        Assert.Contains("Signature vérifiée (CN=Signature des sauvegardes CIMEF", restore.Stdout);
        Assert.Equal(before.Item1, Counts());
        Assert.Equal(before.Item2, ReportFiles());
        Assert.Equal(before.Item3, KeyFiles());
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "check")).ExitCode);
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Data, "backups"), ".*"));
    }

    [Fact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Encrypted_backup_refuses_a_tampered_archive_and_a_bad_certificate()
    {
        var keys = Keys();
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var archive = Path.Combine(_root, "b.p7m");
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, keys.Env, "backup", "--out", archive)).ExitCode);
        Assert.NotEqual(0, (await SiteProcess.RunAsync(Data, keys.Env, "backup", "--out", archive)).ExitCode); // never overwritten
        var counts = Counts();

        var bytes = await File.ReadAllBytesAsync(archive);
        bytes[bytes.Length / 2] ^= 0x55; // inside the encrypted content (the database or a report)
        await File.WriteAllBytesAsync(archive, bytes);
        var tampered = await SiteProcess.RunAsync(Data, keys.Restore(archive));
        Assert.NotEqual(0, tampered.ExitCode);
        Assert.Contains("Restauration refusée", tampered.Stderr);
        Assert.Equal(counts, Counts());

        await File.WriteAllTextAsync(Path.Combine(_root, "faux.crt"), "pas un certificat");
        var badCert = await SiteProcess.RunAsync(Data, new Dictionary<string, string>(keys.Env) { ["Backup__RecipientCertificate"] = Path.Combine(_root, "faux.crt") },
            "backup", "--out", Path.Combine(_root, "c.p7m"));
        Assert.Equal(1, badCert.ExitCode);
        Assert.Contains("Certificat de sauvegarde illisible", badCert.Stderr);
        Assert.False(File.Exists(Path.Combine(_root, "c.p7m")));
    }

    [Fact]
    public async Task Encrypted_backup_refuses_to_run_without_a_signing_key_that_matches_its_certificate()
    {
        var keys = Keys();
        var target = Path.Combine(_root, "usb", "cimef.p7m");

        var unsigned = await SiteProcess.RunAsync(Data, new Dictionary<string, string> { ["Backup__RecipientCertificate"] = keys.Certificate }, "backup", "--out", target);
        Assert.Equal(1, unsigned.ExitCode);
        Assert.Contains("Sauvegarde impossible : Backup:SigningCertificate et Backup:SigningKey", unsigned.Stderr);

        // The recipient's certificate with the signing key: the pair does not match.
        var mismatched = await SiteProcess.RunAsync(Data, new Dictionary<string, string>(keys.Env) { ["Backup__SigningCertificate"] = keys.Certificate },
            "backup", "--out", target);
        Assert.Equal(1, mismatched.ExitCode);
        Assert.Contains("Certificat ou clé de signature illisible", mismatched.Stderr);

        Assert.False(Directory.Exists(Path.GetDirectoryName(target)) && Directory.EnumerateFileSystemEntries(Path.GetDirectoryName(target)!).Any());
    }

    [Fact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Restore_refuses_a_backup_signed_by_another_key_or_without_a_signer_and_changes_nothing()
    {
        var keys = Keys();
        var (otherSigner, otherKey) = SelfSigned("autre-signature", "CN=Signature des sauvegardes CIMEF");
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var good = Path.Combine(_root, "bonne.p7m");
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, keys.Env, "backup", "--out", good)).ExitCode);
        var foreign = Path.Combine(_root, "autre.p7m");
        var otherEnv = new Dictionary<string, string>(keys.Env) { ["Backup__SigningCertificate"] = otherSigner, ["Backup__SigningKey"] = otherKey };
        var made = await SiteProcess.RunAsync(Data, otherEnv, "backup", "--out", foreign);
        Assert.True(made.ExitCode == 0, made.Stderr);

        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "create-staff", "--email", "x@cimef.test", "--name", "X", "--role", "Secretary", "--password", "Secretariat-2026")).ExitCode);
        File.Delete(Path.Combine(Data, "reports", ReportFiles().Keys.First()));
        var changed = State();

        var wrongSigner = await SiteProcess.RunAsync(Data, keys.Restore(foreign));
        Assert.Equal(1, wrongSigner.ExitCode);
        Assert.Contains("Restauration refusée, rien n'a été modifié : la signature ne correspond pas au certificat --signer", wrongSigner.Stderr);
        Assert.Equal(changed, State());

        var noSigner = await SiteProcess.RunAsync(Data, "restore", "--from", good, "--key", keys.Key);
        Assert.Equal(2, noSigner.ExitCode);
        Assert.Contains("--signer", noSigner.Stderr);
        Assert.Equal(changed, State());

        await File.WriteAllTextAsync(Path.Combine(_root, "faux.crt"), "pas un certificat");
        var badSigner = await SiteProcess.RunAsync(Data, "restore", "--from", good, "--key", keys.Key, "--signer", Path.Combine(_root, "faux.crt"));
        Assert.Equal(1, badSigner.ExitCode);
        Assert.Contains("certificat de signature illisible", badSigner.Stderr);
        Assert.Equal(changed, State());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Data, "backups"), ".*"));
    }

    [OpensslFact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Restore_refuses_archives_forged_with_only_the_public_recipient_certificate()
    {
        var keys = Keys();
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        // A consistent backup folder (manifest and all), packed as the real archives are: all a forger needs is a copy
        // of the clinic's data and the public recipient certificate.
        var folder = Path.Combine(_root, "copie");
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "backup", "--out", folder)).ExitCode);
        var tar = Path.Combine(_root, "copie.tar");
        await TarFile.CreateFromDirectoryAsync(folder, tar, includeBaseDirectory: false);

        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "create-staff", "--email", "x@cimef.test", "--name", "X", "--role", "Secretary", "--password", "Secretariat-2026")).ExitCode);
        File.Delete(Path.Combine(Data, "reports", ReportFiles().Keys.First()));
        var changed = State();

        var unsigned = Path.Combine(_root, "non-signee.p7m");
        await OpensslAsync("cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", tar, "-out", unsigned, keys.Certificate);
        var refused = await SiteProcess.RunAsync(Data, keys.Restore(unsigned));
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Restauration refusée, rien n'a été modifié : cette sauvegarde n'est pas signée", refused.Stderr);
        Assert.Equal(changed, State());

        // Signed by the forger's own key, with a certificate that carries the clinic's signing name.
        var (forger, forgerKey) = SelfSigned("faussaire", "CN=Signature des sauvegardes CIMEF");
        var signed = Path.Combine(_root, "signee.der");
        await OpensslAsync("cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-in", tar, "-signer", forger, "-inkey", forgerKey, "-out", signed);
        var forged = Path.Combine(_root, "faussaire.p7m");
        await OpensslAsync("cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", signed, "-out", forged, keys.Certificate);
        var forgedRestore = await SiteProcess.RunAsync(Data, keys.Restore(forged));
        Assert.Equal(1, forgedRestore.ExitCode);
        Assert.Contains("Restauration refusée, rien n'a été modifié : la signature ne correspond pas au certificat --signer", forgedRestore.Stderr);
        Assert.Equal(changed, State());
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(Data, "backups"), ".*"));
    }

    [Fact] // SQLite: online backup of the file; PostgreSQL: pg_dump -Fc / pg_restore
    public async Task Restore_refuses_an_archive_with_a_link_even_when_signed_with_the_clinic_key()
    {
        var keys = Keys();
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var counts = Counts();
        var tar = new MemoryStream();
        await using (var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true))
        {
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.Directory, "keys/"));
            await writer.WriteEntryAsync(new PaxTarEntry(TarEntryType.SymbolicLink, "keys/key-evil.xml") { LinkName = "/etc/passwd" });
        }
        tar.Position = 0;
        var archive = Path.Combine(_root, "forged.p7m");
        // The signing key lives on the server: whoever takes the server over can sign, so the content is checked too.
        using (var recipient = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(keys.Certificate)))
        using (var signer = X509Certificate2.CreateFromPemFile(keys.Signer, keys.SigningKey))
        await using (var output = File.Create(archive))
            await BackupEnvelope.SignAndEncryptAsync(tar, signer, recipient, output, DateTimeOffset.UtcNow);

        var restore = await SiteProcess.RunAsync(Data, keys.Restore(archive));
        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("entrée non prise en charge (SymbolicLink)", restore.Stderr);
        Assert.Equal(counts, Counts());
        Assert.False(File.Exists(Path.Combine(Data, "keys", "key-evil.xml")));
    }

    [OpensslFact]
    public async Task Openssl_cms_decrypts_then_verifies_an_encrypted_backup_into_a_verified_backup_folder()
    {
        var keys = Keys();
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var archive = Path.Combine(_root, "cimef.p7m");
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, keys.Env, "backup", "--out", archive)).ExitCode);

        var signed = Path.Combine(_root, "cimef-signee.der");
        await OpensslAsync("cms", "-decrypt", "-inform", "DER", "-in", archive, "-inkey", keys.Key, "-recip", keys.Certificate, "-out", signed);
        var tar = Path.Combine(_root, "cimef.tar");
        await OpensslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", signed, "-CAfile", keys.Signer, "-out", tar);
        var folder = Path.Combine(_root, "dechiffre");
        Directory.CreateDirectory(folder);
        await TarFile.ExtractToDirectoryAsync(tar, folder, overwriteFiles: false);
        Assert.Null(await BackupRestore.VerifyAsync(folder));
        SqliteConnection.ClearAllPools();
        Assert.Equal(ReportFiles(), Directory.EnumerateFiles(Path.Combine(folder, "reports"), "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Path.Combine(folder, "reports"), f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))));

        // Against another certificate, openssl refuses the signature.
        var (other, _) = SelfSigned("autre", "CN=Signature des sauvegardes CIMEF");
        var (exitCode, _) = await RunOpensslAsync("cms", "-verify", "-binary", "-inform", "DER", "-in", signed, "-CAfile", other, "-out", Path.Combine(_root, "refusee.tar"));
        Assert.NotEqual(0, exitCode);
    }

    [PostgresFact]
    public async Task Check_on_postgres_reads_every_table_and_verifies_the_reports()
    {
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var ok = await SiteProcess.RunAsync(Data, "check");
        Assert.True(ok.ExitCode == 0, ok.Stdout + ok.Stderr);
        Assert.Contains("PostgreSQL joignable, migrations en attente : 0", ok.Stdout);
        Assert.Matches(@"Tables lues : \d+, lignes : [1-9]\d*, illisibles : 0", ok.Stdout);
        Assert.Matches(@"Rapports actifs vérifiés : [1-9]\d*, problèmes : 0", ok.Stdout);

        var file = Path.Combine(Data, "reports", ReportFiles().Keys.First());
        await File.AppendAllTextAsync(file, "x");
        var altered = await SiteProcess.RunAsync(Data, "check");
        Assert.Equal(1, altered.ExitCode);
        Assert.Contains("fichier modifié", altered.Stderr);
    }

    [PostgresFact]
    public async Task Postgres_restore_of_a_backup_from_sqlite_is_refused_and_changes_nothing()
    {
        // A SQLite backup folder (made by a SQLite site on another data directory) offered to a PostgreSQL site.
        var sqliteData = Path.Combine(_root, "sqlite");
        var sqlite = new Dictionary<string, string> { ["Database__Provider"] = "Sqlite" };
        Assert.Equal(0, (await SiteProcess.RunAsync(sqliteData, sqlite, "seed-demo")).ExitCode);
        var dir = Path.Combine(_root, "b-sqlite");
        Assert.Equal(0, (await SiteProcess.RunAsync(sqliteData, sqlite, "backup", "--out", dir)).ExitCode);

        Assert.Equal(0, (await SiteProcess.RunAsync(Data, "seed-demo")).ExitCode);
        var counts = Counts();
        var restore = await SiteProcess.RunAsync(Data, "restore", "--from", dir);
        Assert.Equal(1, restore.ExitCode);
        Assert.Contains("cette sauvegarde vient d'une base SQLite", restore.Stderr);
        Assert.Equal(counts, Counts());
    }

    [PostgresClusterFact]
    public async Task Migrate_to_copies_a_seeded_sqlite_clinic_to_postgres_with_identical_counts_and_checksums()
    {
        var sqlite = new Dictionary<string, string> { ["Database__Provider"] = "Sqlite" };
        Assert.Equal(0, (await SiteProcess.RunAsync(Data, sqlite, "seed-demo")).ExitCode);
        var targetKey = Path.Combine(_root, "pg-target");
        var target = PostgresCluster.Instance.DatabaseFor(targetKey);
        try
        {
            var moved = await SiteProcess.RunAsync(Data, sqlite, "migrate-to", "--connection", target);
            Assert.True(moved.ExitCode == 0, moved.Stdout + moved.Stderr);
            Assert.Contains("Copie vérifiée", moved.Stdout);
            Assert.Contains("PatientNameIndex", moved.Stdout); // the FTS5 table, named as not copied

            // One line per table: equal counts and checksums on both sides.
            var lines = moved.Stdout.Split('\n', StringSplitOptions.TrimEntries).Select(l => l.Split('\t')).Where(p => p.Length == 6 && p[0] != "table").ToList();
            Assert.Contains(lines, p => p[0] == "AspNetUsers" && p[1] != "0");
            Assert.Contains(lines, p => p[0] == "PatientReports" && p[1] != "0");
            Assert.All(lines, p => Assert.True(p[1] == p[2] && p[3] == p[4] && p[5] == "identique", string.Join(" ", p)));

            // Independently: every copied table has the same row count on both engines.
            var tables = lines.Select(p => p[0]).ToList();
            Assert.Equal(SqliteCounts(Path.Combine(Data, "cimef.db"), tables), PostgresCounts(target, tables));

            // A second copy into the now non-empty database is refused.
            var again = await SiteProcess.RunAsync(Data, sqlite, "migrate-to", "--connection", target);
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("n'est pas vide", again.Stderr);

            // The site on PostgreSQL: nothing pending, every report verified against the same data directory, and new
            // rows get fresh ids (the identity sequences were moved past the copied ones).
            // The key ring goes to the database on PostgreSQL; this clinic has no certificate and accepts that explicitly.
            var postgres = new Dictionary<string, string>
            {
                ["Database__Provider"] = "Postgres", ["Database__ConnectionString"] = target, ["KeyRing__AllowUnprotected"] = "true",
            };
            var check = await SiteProcess.RunAsync(Data, postgres, "check");
            Assert.True(check.ExitCode == 0, check.Stdout + check.Stderr);
            Assert.Contains("migrations en attente : 0", check.Stdout);
            var staff = await SiteProcess.RunAsync(Data, postgres, "create-staff", "--email", "nouvelle@cimef.test", "--name", "Nouvelle", "--role", "Secretary", "--password", "Secretariat-2026");
            Assert.True(staff.ExitCode == 0, staff.Stderr);
            var token = await SiteProcess.RunAsync(Data, postgres, "create-api-token", "--email", DemoSeed.AdminEmail, "--name", "après migration");
            Assert.True(token.ExitCode == 0, token.Stderr);
        }
        finally
        {
            Npgsql.NpgsqlConnection.ClearAllPools();
            PostgresCluster.Instance.Drop(targetKey);
        }
    }

    [Fact]
    public async Task Migrate_to_without_a_sqlite_database_or_connection_fails_with_a_message()
    {
        var noConnection = await SiteProcess.RunAsync(Data, "migrate-to");
        Assert.Equal(2, noConnection.ExitCode);
        Assert.Contains("--connection", noConnection.Stderr);
        var noDatabase = await SiteProcess.RunAsync(Path.Combine(_root, "vide"), new Dictionary<string, string> { ["Database__Provider"] = "Sqlite" },
            "migrate-to", "--connection", "Host=127.0.0.1;Database=cimef;Username=cimef");
        Assert.Equal(1, noDatabase.ExitCode);
        Assert.Contains("Aucune base SQLite à copier", noDatabase.Stderr);
    }

    /// <summary>Row counts, report files and key ring files with their SHA-256, as one comparable string.</summary>
    private string State() =>
        string.Join(" | ", Counts(), string.Join(",", ReportFiles().Concat(KeyFiles()).Select(f => $"{f.Key}={f.Value}").Order(StringComparer.Ordinal)));

    private Dictionary<string, string> KeyFiles()
    {
        var root = Path.Combine(Data, "keys");
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
    }

    private static readonly string[] CountedTables = ["Patients", "Invoices", "Payments", "PatientAccesses", "PatientReports", "AspNetUsers", "OutboxMessages", "AuditEntries"];

    /// <summary>Row counts of the main tables, read from the data directory's database on the test engine.</summary>
    private string Counts() => TestDatabase.IsPostgres
        ? PostgresCounts(PostgresCluster.Instance.DatabaseFor(Data), CountedTables)
        : SqliteCounts(Path.Combine(Data, "cimef.db"), CountedTables);

    private static string SqliteCounts(string path, IEnumerable<string> tables)
    {
        using var c = new SqliteConnection(Sqlite.ConnectionString(path));
        c.Open();
        var parts = tables.Select(t =>
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT COUNT(*) FROM \"{t}\"";
            return $"{t}={cmd.ExecuteScalar()}";
        }).ToList();
        c.Close();
        SqliteConnection.ClearAllPools();
        return string.Join(",", parts);
    }

    private static string PostgresCounts(string connectionString, IEnumerable<string> tables)
    {
        using var c = new Npgsql.NpgsqlConnection(connectionString);
        c.Open();
        return string.Join(",", tables.Select(t =>
        {
            using var cmd = new Npgsql.NpgsqlCommand($"SELECT COUNT(*) FROM \"{t}\"", c);
            return $"{t}={cmd.ExecuteScalar()}";
        }));
    }

    private Dictionary<string, string> ReportFiles()
    {
        var root = Path.Combine(Data, "reports");
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));
    }
}

/// <summary>
/// A fact that needs the PostgreSQL server binaries (it starts the throwaway test cluster itself, in either pass);
/// skipped with the reason when they are absent.
/// </summary>
public sealed class PostgresClusterFactAttribute : FactAttribute
{
    public PostgresClusterFactAttribute()
    {
        var bin = Environment.GetEnvironmentVariable("CIMEF_PG_BIN");
        var found = bin is not null ? File.Exists(Path.Combine(bin, "initdb"))
            : Directory.Exists("/usr/lib/postgresql") && Directory.GetDirectories("/usr/lib/postgresql").Any(d => File.Exists(Path.Combine(d, "bin", "initdb")));
        if (!found) Skip = "PostgreSQL absent (/usr/lib/postgresql/*/bin/initdb, or CIMEF_PG_BIN): apt-get install -y postgresql to test migrate-to.";
    }
}

/// <summary>A fact that needs the openssl command line (Debian: /usr/bin/openssl); skipped with the reason when it is absent.</summary>
public sealed class OpensslFactAttribute : FactAttribute
{
    public const string Openssl = "/usr/bin/openssl";

    public OpensslFactAttribute()
    {
        if (!File.Exists(Openssl)) Skip = $"openssl absent ({Openssl}): install it (apt-get install -y openssl) to check that `openssl cms -decrypt` reads the backups.";
    }
}
