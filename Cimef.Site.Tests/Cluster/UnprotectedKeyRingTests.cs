using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Cluster;

/// <summary>
/// Keys in the database with no certificate: whoever reads the database could mint staff cookies and read the stored
/// password copies, so outside Development the site starts only when the operator says so (KeyRing:AllowUnprotected).
/// </summary>
public class UnprotectedKeyRingTests
{
    private static Dictionary<string, string> KeysInDatabase(bool allow) => new()
    {
        ["DataProtection__KeyStore"] = "Database",
        ["KeyRing__AllowUnprotected"] = allow ? "true" : "false",
        ["urls"] = "http://127.0.0.1:0",
    };

    private static async Task InDataDirectoryAsync(Func<string, Task> work)
    {
        var dataDir = Directory.CreateTempSubdirectory("cimef-keyring").FullName;
        try { await work(dataDir); }
        finally
        {
            TestDatabase.Release(dataDir);
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public Task Keys_in_the_database_without_a_certificate_stop_the_start_with_a_french_message_and_exit_code_3() => InDataDirectoryAsync(async dataDir =>
    {
        var result = await SiteProcess.RunAsync(dataDir, KeysInDatabase(allow: false));
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("Configuration invalide", result.Stderr);
        Assert.Contains("fabriquer des cookies de connexion du personnel", result.Stderr);
        Assert.Contains("KeyRing:AllowUnprotected=true", result.Stderr);
    });

    [Fact]
    public Task Check_says_in_french_why_an_unprotected_key_ring_in_the_database_is_refused() => InDataDirectoryAsync(async dataDir =>
    {
        var refused = await SiteProcess.RunAsync(dataDir, KeysInDatabase(allow: false), "check");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("le site refusera de démarrer", refused.Stderr);
        Assert.Contains("lire les copies des mots de passe", refused.Stderr);
        Assert.Contains("ÉCHEC", refused.Stdout);

        // Accepted explicitly: the start goes ahead and check still names the risk, without failing for it.
        var accepted = await SiteProcess.RunAsync(dataDir, KeysInDatabase(allow: true), "check");
        Assert.True(accepted.ExitCode == 0, accepted.Stdout + accepted.Stderr);
        Assert.Contains("Attention : Le trousseau de clés Data Protection est stocké dans la base de données sans certificat", accepted.Stdout);
    });
}
