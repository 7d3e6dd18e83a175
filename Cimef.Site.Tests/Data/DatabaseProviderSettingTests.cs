using Cimef.Site.Tests.Infrastructure;

namespace Cimef.Site.Tests.Data;

/// <summary>Database:Provider is checked before anything touches a database, with a readable French message.</summary>
public class DatabaseProviderSettingTests : IDisposable
{
    private readonly string _data = Path.Combine(Path.GetTempPath(), "cimef-provider-tests", Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_data, true); } catch (IOException) { }
    }

    [Theory]
    [InlineData("Postgres", "", "demande Database:ConnectionString")]
    [InlineData("Oracle", "", "« Oracle » inconnu")]
    public async Task A_wrong_provider_setting_stops_the_start_with_a_french_message(string provider, string connectionString, string expected)
    {
        var r = await SiteProcess.RunAsync(_data, new Dictionary<string, string>
        {
            ["Database__Provider"] = provider,
            ["Database__ConnectionString"] = connectionString,
        }, "list-api-tokens");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("Configuration invalide", r.Stderr);
        Assert.Contains(expected, r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }
}
