using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Storage;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;

namespace Cimef.Site.Tests.Data;

/// <summary>
/// The data directory is private on Linux: after start, some activity (staff sign-in, a report, an e-mail and an SMS
/// in the pickup folders, the demo seed run by the CLI beside the site) and backups, every directory is 0700 and every
/// file 0600 — database, WAL and SHM included — and files an older version left world-readable are fixed at start.
/// </summary>
public class DataDirectoryPermissionsTests
{
    private const UnixFileMode Rwx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Rw = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode WorldReadable = Rw | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    [Fact, Trait("Provider", "SqliteOnly")] // the SQLite file, its WAL/SHM and the SQLite backup
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task Every_file_in_the_data_directory_is_0600_and_every_directory_0700()
    {
        if (!OperatingSystem.IsLinux()) return; // Windows protects the folder with ACLs, not modes.
        using var factory = new CimefFactory();
        var data = factory.DataDir;

        // Left by an older version: a world-readable folder, report and data directory.
        var oldDir = Path.Combine(data, "reports", "2025", "01");
        Directory.CreateDirectory(oldDir);
        var oldFile = Path.Combine(oldDir, "ancien.pdf");
        await File.WriteAllTextAsync(oldFile, "%PDF-1.4 ancien");
        File.SetUnixFileMode(oldFile, WorldReadable);
        foreach (var d in new[] { data, Path.Combine(data, "reports"), Path.Combine(data, "reports", "2025"), oldDir })
            File.SetUnixFileMode(d, WorldReadable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);

        await factory.StaffClientAsync(Roles.Admin); // start, key ring, database writes
        await factory.WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<ReportStore>().SaveAsync(new MemoryStream("%PDF-1.4 rapport"u8.ToArray()), "pdf");
            var mail = new MimeMessage();
            mail.To.Add(MailboxAddress.Parse("patient@example.sn"));
            mail.Subject = "Vos résultats";
            mail.Body = new TextPart("plain") { Text = "Clé d'accès" };
            await sp.GetRequiredService<EmailSender>().SendAsync(mail);
            await sp.GetRequiredService<SmsSender>().SendAsync("+221770000000", "Clé d'accès");
        });

        // The CLI beside the running site: demo data, a plain backup and an encrypted one, both inside the data directory.
        Assert.Equal(0, (await SiteProcess.RunAsync(data, "seed-demo")).ExitCode);
        Assert.Equal(0, (await SiteProcess.RunAsync(data, "backup", "--out", Path.Combine(data, "backups", "manuelle"))).ExitCode);
        var certPath = Path.Combine(Path.GetTempPath(), $"cimef-cert-{Guid.NewGuid():N}.crt");
        var signerPath = Path.Combine(Path.GetTempPath(), $"cimef-signer-{Guid.NewGuid():N}.crt");
        var signingKeyPath = Path.Combine(Path.GetTempPath(), $"cimef-signer-{Guid.NewGuid():N}.key");
        using (var rsa = RSA.Create(2048))
        using (var cert = new CertificateRequest("CN=Sauvegardes", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                   .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1)))
            await File.WriteAllTextAsync(certPath, cert.ExportCertificatePem());
        using (var rsa = RSA.Create(2048))
        using (var cert = new CertificateRequest("CN=Signature", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                   .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1)))
        {
            await File.WriteAllTextAsync(signerPath, cert.ExportCertificatePem());
            await File.WriteAllTextAsync(signingKeyPath, rsa.ExportPkcs8PrivateKeyPem());
        }
        try
        {
            var encrypted = await SiteProcess.RunAsync(data, new Dictionary<string, string>
            {
                ["Backup__RecipientCertificate"] = certPath,
                ["Backup__SigningCertificate"] = signerPath,
                ["Backup__SigningKey"] = signingKeyPath,
            }, "backup", "--out", Path.Combine(data, "backups"));
            Assert.True(encrypted.ExitCode == 0, encrypted.Stderr);
        }
        finally
        {
            File.Delete(certPath);
            File.Delete(signerPath);
            File.Delete(signingKeyPath);
        }

        // An open connection keeps -wal and -shm in place (another test class clearing the pools would close the site's).
        using var hold = new SqliteConnection(Cimef.Site.Data.Sqlite.ConnectionString(Path.Combine(data, "cimef.db")));
        hold.Open();
        using (var read = hold.CreateCommand())
        {
            read.CommandText = "SELECT COUNT(*) FROM Patients";
            Assert.True(Convert.ToInt32(read.ExecuteScalar()) > 0);
        }

        var entries = Directory.EnumerateFileSystemEntries(data, "*", SearchOption.AllDirectories).Prepend(data).ToList();
        foreach (var name in new[] { "cimef.db", "cimef.db-wal", "cimef.db-shm", "credential-hmac.secret", ".eml", ".txt", ".p7m", "ancien.pdf", "manifest.json" })
            Assert.True(entries.Any(e => e.EndsWith(name, StringComparison.Ordinal)), $"no *{name} in: " + string.Join(", ", entries.Select(e => Path.GetRelativePath(data, e))));
        Assert.Contains(entries, e => e.Contains("/keys/key-", StringComparison.Ordinal));
        var wrong = entries
            .Select(e => (Path: Path.GetRelativePath(data, e), Mode: File.GetUnixFileMode(e), Wanted: Directory.Exists(e) ? Rwx : Rw))
            .Where(e => e.Mode != e.Wanted)
            .Select(e => $"{e.Path}: {Convert.ToString((int)e.Mode, 8)}")
            .ToList();
        Assert.True(wrong.Count == 0, "Not private: " + string.Join(", ", wrong));
    }
}
