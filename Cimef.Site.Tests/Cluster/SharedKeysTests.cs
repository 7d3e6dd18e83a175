using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Cimef.Site.Access;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Portal;
using Cimef.Site.Tests.Web;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Cimef.Site.Data;

namespace Cimef.Site.Tests.Cluster;

/// <summary>
/// The key ring and the credential secret shared by every node (database key store), imported from
/// a clinic's keys directory when it switches, encrypted at rest with its certificate, or given by configuration.
/// </summary>
public class SharedKeysTests
{
    [PostgresFact]
    public async Task Two_nodes_with_their_own_data_directories_share_sessions_passwords_and_reveals()
    {
        using var cluster = new TwoHosts();
        Assert.NotEqual(cluster.A.DataDir, cluster.B.DataDir);
        // Both nodes create the secret at the same moment (neither has needed it yet): both end with the same one.
        var hashes = await Task.WhenAll(new[] { cluster.A, cluster.B }.Select(node => Task.Run(() =>
            Convert.ToHexString(node.Services.GetRequiredService<CredentialProtector>().Hash("meme-mot")))));
        Assert.Equal(hashes[0], hashes[1]);
        var p = await cluster.A.Data.PatientAsync("Fatou Diop");

        // A password set on A verifies on B.
        Assert.Equal(HttpStatusCode.OK, (await cluster.B.NewClient().LoginJsonAsync(p.Key, p.Password)).StatusCode);

        // A session issued by A is accepted by B.
        var login = await cluster.A.NewClient().LoginJsonAsync(p.Key, p.Password);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        var cookie = PortalData.SessionCookie(login) ?? throw new InvalidOperationException("No session cookie.");
        var onB = cluster.B.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost"), HandleCookies = false,
        });
        onB.DefaultRequestHeaders.Add("Cookie", "__Host-cimef_patient=" + cookie);
        var profile = await onB.GetAsync("/api/patients/portal/profile/");
        Assert.Equal(HttpStatusCode.OK, profile.StatusCode);
        Assert.Contains("Fatou Diop", await profile.Content.ReadAsStringAsync());

        // The Access page on B reveals the password printed on A.
        var secretary = await cluster.B.StaffClientAsync(Roles.Secretary);
        var page = await secretary.PostFormAsync($"/Access/Details/{p.AccessId}?handler=Reveal", new(), tokenPage: $"/Access/Details/{p.AccessId}");
        Assert.Contains(p.Password, await page.HtmlAsync());

        // Neither node wrote a key or a secret file: both live in the database.
        foreach (var node in new[] { cluster.A, cluster.B })
            Assert.Empty(Directory.GetFiles(Path.Combine(node.DataDir, "keys")));
        Assert.NotEqual(0, await cluster.A.WithDbAsync(db => db.DataProtectionKeys.CountAsync()));
        Assert.Equal(1, await cluster.A.WithDbAsync(db => db.ClusterSecrets.CountAsync()));
    }

    [Fact]
    public async Task Switching_to_the_database_key_store_imports_the_keys_directory_and_the_secret_once()
    {
        using var before = new CimefFactory();
        before.Settings["DataProtection:KeyStore"] = "FileSystem";
        var p = await before.Data.PatientAsync();
        var keysDir = Path.Combine(before.DataDir, "keys");
        var keyFiles = Directory.GetFiles(keysDir, "key-*.xml");
        Assert.NotEmpty(keyFiles);
        var fileSecret = (await File.ReadAllTextAsync(Path.Combine(keysDir, "credential-hmac.secret"))).Trim();
        var login = await before.NewClient().LoginJsonAsync(p.Key, p.Password);
        var cookie = PortalData.SessionCookie(login) ?? throw new InvalidOperationException("No session cookie.");

        // The same clinic (data directory, database) restarted with DataProtection:KeyStore=Database.
        using var after = new CimefFactory();
        var logs = new LogCapture();
        after.Settings["Storage:DataDirectory"] = before.DataDir;
        after.Settings["DataProtection:KeyStore"] = "Database";
        after.Settings["KeyRing:AllowUnprotected"] = "true";
        after.ConfigureTestServices = s => s.AddSingleton<ILoggerProvider>(logs);
        _ = after.Server;
        // No certificate: a warning, which names no secret.
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("without DataProtection:CertificatePath"));
        Assert.Equal(keyFiles.Length, await after.WithDbAsync(db => db.DataProtectionKeys.CountAsync()));
        // The stored copy decrypts with the imported key, the stored hash verifies with the migrated secret,
        // and the session issued before the switch is still valid.
        Assert.Equal(p.Password, (await after.Data.CredentialsAsync(p.AccessId!.Value)).Password);
        Assert.Equal(HttpStatusCode.OK, (await after.NewClient().LoginJsonAsync(p.Key, p.Password)).StatusCode);
        var replay = after.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false, BaseAddress = new Uri("https://localhost"), HandleCookies = false,
        });
        replay.DefaultRequestHeaders.Add("Cookie", "__Host-cimef_patient=" + cookie);
        Assert.Equal(HttpStatusCode.OK, (await replay.GetAsync("/api/patients/portal/profile/")).StatusCode);
        // The secret row is encrypted: the file's value does not appear in it.
        var row = await after.WithDbAsync(db => db.ClusterSecrets.SingleAsync());
        Assert.DoesNotContain(fileSecret, row.ProtectedValue);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(fileSecret) || e.Message.Contains(p.Password));

        // Once: a second start with the same files imports nothing more.
        using var again = new CimefFactory();
        again.Settings["Storage:DataDirectory"] = before.DataDir;
        again.Settings["DataProtection:KeyStore"] = "Database";
        again.Settings["KeyRing:AllowUnprotected"] = "true";
        _ = again.Server;
        Assert.Equal(keyFiles.Length, await again.WithDbAsync(db => db.DataProtectionKeys.CountAsync()));
        Assert.Equal(1, await again.WithDbAsync(db => db.ClusterSecrets.CountAsync()));
    }

    [Fact]
    public async Task With_a_certificate_the_keys_in_the_database_hold_no_key_material_in_clear_and_a_new_process_reads_them()
    {
        var pfxDir = Directory.CreateTempSubdirectory("cimef-pfx").FullName;
        var pfx = Path.Combine(pfxDir, "clinic.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=CIMEF Data Protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(2));
            await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pfx, "secret-pfx"));
        }
        void Configure(CimefFactory f)
        {
            f.Settings["DataProtection:KeyStore"] = "Database";
            f.Settings["DataProtection:CertificatePath"] = pfx;
            f.Settings["DataProtection:CertificatePassword"] = "secret-pfx";
        }
        try
        {
            using var first = new CimefFactory();
            var logs = new LogCapture();
            Configure(first);
            first.ConfigureTestServices = s => s.AddSingleton<ILoggerProvider>(logs);
            var p = await first.Data.PatientAsync();
            Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("without DataProtection:CertificatePath"));
            var xml = await first.WithDbAsync(db => db.DataProtectionKeys.Select(k => k.Xml).ToListAsync());
            Assert.NotEmpty(xml);
            Assert.All(xml, x =>
            {
                Assert.Contains("EncryptedData", x);
                Assert.Contains("EncryptedKey", x);
                Assert.Contains(nameof(CertificateKeyDecryptor), x);
                Assert.DoesNotContain("<masterKey", x);
                Assert.DoesNotContain("<value>", x);
            });

            // Another process (empty key ring cache) decrypts the keys with the certificate.
            using var second = new CimefFactory();
            second.Settings["Storage:DataDirectory"] = first.DataDir;
            Configure(second);
            Assert.Equal(p.Password, (await second.Data.CredentialsAsync(p.AccessId!.Value)).Password);
            Assert.Equal(HttpStatusCode.OK, (await second.NewClient().LoginJsonAsync(p.Key, p.Password)).StatusCode);
        }
        finally
        {
            Directory.Delete(pfxDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_certificate_stops_the_start_with_a_french_message_and_exit_code_3()
    {
        var dataDir = Directory.CreateTempSubdirectory("cimef-nocert").FullName;
        try
        {
            var result = await SiteProcess.RunAsync(dataDir,
                new Dictionary<string, string> { ["DataProtection__CertificatePath"] = Path.Combine(dataDir, "absent.pfx") }, "check");
            Assert.Equal(3, result.ExitCode);
            Assert.Contains("Configuration invalide", result.Stderr);
            Assert.Contains("est introuvable", result.Stderr);
        }
        finally
        {
            TestDatabase.Release(dataDir);
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_configured_credential_secret_is_used_and_nothing_is_generated()
    {
        var secret = RandomNumberGenerator.GetBytes(32);
        using var factory = new CimefFactory();
        factory.Settings["Access:CredentialSecret"] = Convert.ToBase64String(secret);
        var p = await factory.Data.PatientAsync();
        var stored = await factory.WithDbAsync(db => db.PatientAccesses.Where(a => a.Id == p.AccessId).Select(a => a.PasswordHash).SingleAsync());
        Assert.Equal(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(CredentialGenerator.NormalizePassword(p.Password))), stored);
        Assert.False(File.Exists(Path.Combine(factory.DataDir, "keys", "credential-hmac.secret")));
        Assert.Equal(0, await factory.WithDbAsync(db => db.ClusterSecrets.CountAsync()));
    }

    [Fact]
    public void A_credential_secret_shorter_than_32_bytes_is_refused_in_french()
    {
        using var factory = new CimefFactory();
        factory.Settings["Access:CredentialSecret"] = Convert.ToBase64String(new byte[16]);
        var e = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("au moins 32 octets", e.ToString());
    }
}
