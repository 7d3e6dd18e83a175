using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Cimef.Site.Access;
using Cimef.Site.Languages;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Deque.AxeCore.Playwright;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>The real site on Kestrel with its SMS going to a loopback Orange fake (the code is read from what it received).</summary>
public sealed class RecoveryKestrelFactory : KestrelFactory
{
    public FakeProvider Sms { get; } = FakeProvider.Start();

    public RecoveryKestrelFactory()
    {
        Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
        Settings["Sms:Provider"] = "Orange";
        Settings["Sms:Orange:BaseUrl"] = Sms.Address;
        Settings["Sms:Orange:ClientId"] = "client-id";
        Settings["Sms:Orange:ClientSecret"] = "client-secret";
        Settings["Sms:Orange:SenderAddress"] = "tel:+221770000000";
        Sms.Respond = r => r.RawTarget == "/oauth/v3/token"
            ? (200, """{"token_type":"Bearer","access_token":"tok","expires_in":3600}""")
            : (201, "{}");
    }

    /// <summary>Sends the outbox, then the texts the fake received for <paramref name="e164"/>, oldest first.</summary>
    public async Task<List<string>> SmsToAsync(string e164)
    {
        await this.ProcessOutboxAsync();
        return Sms.Requests.Where(r => r.RawTarget.Contains("/requests", StringComparison.Ordinal))
            .Select(r => JsonDocument.Parse(r.Body).RootElement.GetProperty("outboundSMSMessageRequest"))
            .Where(m => m.GetProperty("address").GetString() == "tel:" + e164)
            .Select(m => m.GetProperty("outboundSMSTextMessage").GetProperty("message").GetString()!).ToList();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Sms.DisposeAsync();
    }
}

/// <summary>
/// « Done when » of lost credentials, tried as a new user would on a 360×640 phone in Wolof: a mother who lost the paper
/// invoice types her number, receives the code by SMS, picks her child's access, gets a new password, sees the child's
/// report; the old password no longer works; her e-mail says what happened; the audit and the child's history show it.
/// The README's screenshots (recover-…). And every page of the way passes axe-core.
/// </summary>
public partial class RecoveryBrowserTests : IClassFixture<RecoveryKestrelFactory>, IClassFixture<ChromiumFixture>
{
    private static readonly CultureInfo WolofCulture = CultureInfo.GetCultureInfo("wo");
    private readonly RecoveryKestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;
    private static int _numbers;

    public RecoveryBrowserTests(RecoveryKestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
    }

    private static string Wo(string name) => PatientText.Get(name, WolofCulture);

    [GeneratedRegex(@"\b(\d{6})\b")]
    private static partial Regex SixDigits();

    /// <summary>Polls the page's address (a navigation that committed before a URL wait began is still seen), then its parsing.</summary>
    private static async Task ArriveAsync(IPage page, string path)
    {
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(path) + "$"), new() { Timeout = 90_000 });
        await page.WaitForFunctionAsync("() => document.readyState !== 'loading'");
    }

    private static (string National, string E164) NewNumber()
    {
        var digits = $"76{Interlocked.Increment(ref _numbers):D7}";
        return ($"{digits[..2]} {digits[2..5]} {digits[5..7]} {digits[7..]}", "+221" + digits);
    }

    /// <summary>The number typed on the recovery page, the code read from the SMS and typed in: the choice page.</summary>
    private async Task<string> ToChoiceAsync(IPage page, (string National, string E164) number, Func<string, Func<Task>, Task>? step = null)
    {
        step ??= (_, action) => action();
        await step("recover-2-number", async () =>
        {
            await page.GotoAsync("/patient");
            await page.GetByRole(AriaRole.Link, new() { Name = Wo("login_lost") }).ClickAsync();
            await ArriveAsync(page, "/patient/recover");
            await page.GetByLabel(Wo("recover_phone_label")).FillAsync(number.National);
        });
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("recover_send"), Exact = true }).ClickAsync();
        await ArriveAsync(page, "/patient/recover/code");
        var sms = (await _factory.SmsToAsync(number.E164)).Last();
        var code = SixDigits().Match(sms).Groups[1].Value;
        await step("recover-3-code", async () =>
        {
            Assert.Contains(Wo("recover_sent"), await page.Locator("main").InnerTextAsync());
            var field = page.GetByLabel(Wo("recover_code_label"));
            Assert.Equal("numeric", await field.GetAttributeAsync("inputmode"));
            Assert.Equal("one-time-code", await field.GetAttributeAsync("autocomplete"));
            await field.FillAsync(code);
        });
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("recover_check"), Exact = true }).ClickAsync();
        await ArriveAsync(page, "/patient/recover/choose");
        return sms;
    }

    [ChromiumFact]
    public async Task A_mother_in_wolof_recovers_her_childs_access_from_her_phone()
    {
        _screens.Reset();
        _ = _factory.Address;
        var number = NewNumber();
        var mother = await _factory.Data.PatientAsync("Awa Diop", phone: number.E164, email: "awa.diop@example.sn");
        var child = await _factory.Data.PatientAsync("Moussa Diop", phone: number.E164, email: "awa.diop@example.sn");
        await _factory.WithDbAsync(db => db.Patients.Where(p => p.Id == mother.PatientId || p.Id == child.PatientId)
            .ExecuteUpdateAsync(u => u.SetProperty(p => p.Language, "wo")));
        await _factory.Data.ReportAsync(child, "Radiographie du poignet");
        await _factory.SmsToAsync(number.E164); // the credentials sent when the invoices were issued
        var before = (await _factory.SmsToAsync(number.E164)).Count;
        await using var context = await _chromium.PhoneContextAsync(_factory.Address);
        var page = await context.NewPageAsync();

        await _screens.StepAsync("recover-1-login", page, async () =>
        {
            await page.GotoAsync("/patient?lang=wo");
            Assert.Equal("wo", await page.Locator("html").GetAttributeAsync("lang"));
            Assert.Equal(1, await page.GetByRole(AriaRole.Link, new() { Name = Wo("login_lost") }).CountAsync());
        });
        var sms = await ToChoiceAsync(page, number, (name, action) => _screens.StepAsync(name, page, action));
        Assert.Equal(before + 1, (await _factory.SmsToAsync(number.E164)).Count);
        Assert.StartsWith("CIMEF : sa kood mooy ", sms);
        Assert.DoesNotContain("Moussa", sms);

        await _screens.StepAsync("recover-4-choose", page, async () =>
        {
            Assert.Equal(1, await page.GetByRole(AriaRole.Button, new() { Name = $"A. D. — …{mother.Key[^4..]}" }).CountAsync());
            Assert.Equal(1, await page.GetByRole(AriaRole.Button, new() { Name = $"M. D. — …{child.Key[^4..]}" }).CountAsync());
            Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= 360"));
        });
        await page.GetByRole(AriaRole.Button, new() { Name = $"M. D. — …{child.Key[^4..]}" }).ClickAsync();
        string password = "";
        await _screens.StepAsync("recover-5-new-password", page, async () =>
        {
            await Assertions.Expect(page.Locator("#renewed-password")).ToBeVisibleAsync();
            password = (await page.Locator("#renewed-password").InnerTextAsync()).Trim();
            Assert.Equal(CredentialGenerator.FormatKey(child.Key), (await page.Locator("#renewed-key").InnerTextAsync()).Trim());
            Assert.NotEqual(child.Password, password);
            await page.GetByLabel(Wo("phone_remember")).CheckAsync();
        });
        await page.GetByRole(AriaRole.Button, new() { Name = Wo("recover_continue"), Exact = true }).ClickAsync();
        await ArriveAsync(page, "/patient/dashboard");
        await _screens.StepAsync("recover-6-child-results", page, async () =>
        {
            Assert.Equal(string.Format(CultureInfo.InvariantCulture, Wo("dashboard_hello"), child.FullName), await page.Locator("h1").TextContentAsync());
            Assert.Contains("Radiographie du poignet", await page.Locator("#reports").InnerTextAsync());
        });
        await _screens.StepAsync("recover-7-history", page, async () =>
        {
            await page.GotoAsync("/patient/history");
            Assert.Contains(Wo("history_recovered"), await page.Locator("main").InnerTextAsync());
        });

        // The old password no longer works, the new one does; the mother's e-mail says what happened; the clinic's audit has it.
        using var api = new HttpClient { BaseAddress = new Uri(_factory.Address) };
        Assert.Equal(401, (int)(await api.PostJsonAsync("/api/patients/portal/login/", new Dictionary<string, string> { ["access_key"] = child.Key, ["password"] = child.Password })).StatusCode);
        Assert.Equal(200, (int)(await api.PostJsonAsync("/api/patients/portal/login/", new Dictionary<string, string> { ["access_key"] = child.Key, ["password"] = password })).StatusCode);
        await _factory.ProcessOutboxAsync();
        var mails = Directory.GetFiles(Path.Combine(_factory.DataDir, "mail-pickup")).Select(f => MimeKit.MimeMessage.Load(f))
            .Where(m => m.Subject == Wo("notify_recovery_notice_subject") && m.To.Mailboxes.Any(b => b.Address == "awa.diop@example.sn")).ToList();
        var mail = Assert.Single(mails);
        Assert.Contains($"…{child.Key[^4..]}", mail.TextBody);
        Assert.DoesNotContain(password, mail.TextBody);
        Assert.Equal(1, await _factory.WithDbAsync(db => db.AuditEntries.CountAsync(a => a.Action == AccessProvisioning.RecoverAction && a.EntityId == child.AccessId.ToString())));
    }

    [ChromiumFact]
    public async Task Every_recovery_page_passes_axe_core()
    {
        _ = _factory.Address;
        var number = NewNumber();
        var p = await _factory.Data.PatientAsync("Awa Diop", phone: number.E164);
        await _factory.SmsToAsync(number.E164);
        await using var context = await _chromium.PhoneContextAsync(_factory.Address, bypassCsp: true);
        var page = await context.NewPageAsync();
        await page.GotoAsync("/patient?lang=wo");

        async Task AxeAsync()
        {
            var result = await page.RunAxe();
            Assert.True(result.Violations.Length == 0,
                page.Url + ": " + string.Join("; ", result.Violations.Select(v => $"{v.Id}: {v.Help} ({string.Join(", ", v.Nodes.Select(n => n.Html))})")));
        }
        await ToChoiceAsync(page, number, async (_, action) =>
        {
            await action();
            await AxeAsync();
        });
        await AxeAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = $"A. D. — …{p.Key[^4..]}" }).ClickAsync();
        await Assertions.Expect(page.Locator("#renewed-password")).ToBeVisibleAsync();
        await AxeAsync();
    }
}
