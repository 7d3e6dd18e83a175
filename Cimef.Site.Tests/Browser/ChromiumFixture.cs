using System.Text.Json;
using Microsoft.Playwright;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// Debian's Chromium driven by Playwright (DESIGN §8): never downloaded, launched from /usr/bin/chromium, headless.
/// Shared by browser tests through IClassFixture; where the browser is missing, tests marked [ChromiumFact] or
/// [ChromiumTheory] are skipped with the reason (CI installs it).
/// </summary>
public sealed class ChromiumFixture : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Why browser tests are skipped, or null when Chromium is installed.</summary>
    public static readonly string? MissingReason = File.Exists(ExecutablePath) ? null :
        $"Browser tests need Debian's Chromium at {ExecutablePath}: install it with `apt-get install -y chromium` (.ci/run does). Never run `playwright install`.";

    public IBrowser Browser => _browser ?? throw new InvalidOperationException(MissingReason ?? "Chromium is not started.");

    public async Task InitializeAsync()
    {
        if (MissingReason is not null) return;
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.DisposeAsync();
        _playwright?.Dispose();
    }

    /// <summary>A fresh context (empty cache and cookies) with a 360×640 phone viewport; generous timeouts for a busy CI machine.</summary>
    public async Task<IBrowserContext> PhoneContextAsync(string baseUrl, bool javaScript = true, bool bypassCsp = false)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = baseUrl,
            ViewportSize = new ViewportSize { Width = 360, Height = 640 },
            IsMobile = true,
            HasTouch = true,
            JavaScriptEnabled = javaScript,
            AcceptDownloads = true,
            BypassCSP = bypassCsp,
            Locale = "fr-SN",
        });
        context.SetDefaultTimeout(90_000);
        context.SetDefaultNavigationTimeout(90_000);
        return context;
    }
}

/// <summary>A [Fact] that needs Chromium: skipped with the reason where it is not installed.</summary>
public sealed class ChromiumFactAttribute : FactAttribute
{
    public ChromiumFactAttribute() => Skip = ChromiumFixture.MissingReason;
}

/// <summary>A [Theory] that needs Chromium: skipped with the reason where it is not installed.</summary>
public sealed class ChromiumTheoryAttribute : TheoryAttribute
{
    public ChromiumTheoryAttribute() => Skip = ChromiumFixture.MissingReason;
}

/// <summary>Counts the bytes a page really received over the network (CDP encodedDataLength: headers + compressed body; 0 from cache).</summary>
public sealed class TransferMeter
{
    private long _bytes;
    private readonly List<string> _urls = [];

    public long Bytes => Interlocked.Read(ref _bytes);
    public IReadOnlyList<string> Urls { get { lock (_urls) return [.. _urls]; } }

    public static async Task<TransferMeter> AttachAsync(IPage page)
    {
        var meter = new TransferMeter();
        var cdp = await page.Context.NewCDPSessionAsync(page);
        var urls = new Dictionary<string, string>();
        cdp.Event("Network.responseReceived").OnEvent += (_, e) =>
        {
            if (e is not JsonElement json) return;
            lock (urls) urls[json.GetProperty("requestId").GetString()!] = json.GetProperty("response").GetProperty("url").GetString()!;
        };
        cdp.Event("Network.loadingFinished").OnEvent += (_, e) =>
        {
            if (e is not JsonElement json) return;
            var length = (long)json.GetProperty("encodedDataLength").GetDouble();
            Interlocked.Add(ref meter._bytes, length);
            lock (urls)
                if (urls.TryGetValue(json.GetProperty("requestId").GetString()!, out var url))
                    lock (meter._urls) meter._urls.Add($"{url} {length} B");
        };
        await cdp.SendAsync("Network.enable");
        return meter;
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _bytes, 0);
        lock (_urls) _urls.Clear();
    }
}
