using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Cimef.Site.Storage;

namespace Cimef.Site.Tests.Infrastructure;

/// <summary>
/// The one fixture: the real pipeline over a real SQLite file in a temp data directory of its own
/// (one per test class through IClassFixture), with a FakeTimeProvider as the clock. With
/// <c>CIMEF_TEST_PROVIDER=Postgres</c> the same, over a database of its own on a throwaway PostgreSQL cluster.
/// </summary>
public class CimefFactory : WebApplicationFactory<Program>
{
    public static readonly DateTimeOffset Start = new(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

    public string DataDir { get; } = Path.Combine(Path.GetTempPath(), "cimef-tests", Guid.NewGuid().ToString("N"));
    public FakeTimeProvider Time { get; } = new(Start);

    /// <summary>Extra configuration (e.g. "Portal:MaxLoginAttempts"); set before the first client is created.</summary>
    public Dictionary<string, string?> Settings { get; } = new();

    /// <summary>Extra service replacements; set before the first client is created.</summary>
    public Action<IServiceCollection>? ConfigureTestServices { get; set; }

    /// <summary>Seeds patients, invoices, reports and API tokens (see <see cref="TestData"/>).</summary>
    public TestData Data { get; }

    public CimefFactory()
    {
        Data = new TestData(this);
        Directory.CreateDirectory(DataDir);
        // Background senders/checkers stay off in tests; tests drive OutboxProcessor / IntegrityWorker themselves.
        Settings["Notifications:WorkerEnabled"] = "false";
        Settings["Reports:IntegrityWorkerEnabled"] = "false";
        // Every test client signs in from the same (absent) address: only the flood test keeps the real cap.
        Settings["Staff:SignInRequestsPerMinutePerIp"] = "100000";
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // Each host would otherwise watch appsettings*.json and take one of the machine's 128 inotify instances.
        builder.UseSetting("hostBuilder:reloadConfigOnChange", "false");
        builder.UseSetting("Storage:DataDirectory", DataDir);
        // CIMEF_TEST_PROVIDER=Postgres: a database of its own on the run's throwaway cluster.
        foreach (var (k, v) in TestDatabase.SettingsFor(EffectiveDataDir)) builder.UseSetting(k, v);
        foreach (var (k, v) in Settings) builder.UseSetting(k, v);
        builder.ConfigureServices(s =>
        {
            s.RemoveAll<TimeProvider>();
            s.AddSingleton<TimeProvider>(Time);
            ConfigureTestServices?.Invoke(s);
        });
    }

    /// <summary>The data directory the site uses (a test may point Settings at another one, e.g. a CLI's).</summary>
    private string EffectiveDataDir => Settings.GetValueOrDefault("Storage:DataDirectory") ?? DataDir;

    /// <summary>A client that keeps cookies, does not follow redirects and speaks https (so Secure cookies flow).</summary>
    public HttpClient NewClient() => CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        BaseAddress = new Uri("https://localhost"),
        HandleCookies = true,
    });

    public async Task<T> WithDbAsync<T>(Func<CimefDb, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<CimefDb>());
    }

    public async Task WithScopeAsync(Func<IServiceProvider, Task> work)
    {
        await using var scope = Services.CreateAsyncScope();
        await work(scope.ServiceProvider);
    }

    public async Task<T> WithScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    /// <summary>Creates a staff member with the role (password <see cref="StaffPassword"/>) and returns a signed-in client.</summary>
    public async Task<HttpClient> StaffClientAsync(string role, string? email = null)
    {
        email ??= $"{role.ToLowerInvariant()}-{Guid.NewGuid():N}@cimef.test";
        await CreateStaffAsync(email, role);
        var client = NewClient();
        var response = await client.PostFormAsync("/Account/SignIn", new() { ["Input.Email"] = email, ["Input.Password"] = StaffPassword });
        if ((int)response.StatusCode != 302) throw new InvalidOperationException($"Sign-in failed for {email}: {(int)response.StatusCode}");
        return client;
    }

    public const string StaffPassword = "Clinique-2026-test";

    public Task CreateStaffAsync(string email, string role) => WithScopeAsync(async sp =>
    {
        var result = await StaffAccounts.CreateAsync(sp, email, "Test " + Roles.French(role), role, StaffPassword);
        if (!result.Succeeded) throw new InvalidOperationException(string.Join(" ", result.Errors.Select(e => e.Description)));
    });

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
        TestDatabase.Release(EffectiveDataDir);
        try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
