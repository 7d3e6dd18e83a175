using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Payments;
using Cimef.Site.Tests.Infrastructure;
using Cimef.Site.Tests.Notifications;
using Cimef.Site.Tests.Payments;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>The site on real Kestrel at a port known in advance, so Wave's success_url (from Portal:Url) points back at it.</summary>
public sealed class WaveKestrelFactory : WaveFactory
{
    private readonly int _port = FreePort.Next();
    private string? _address;

    public WaveKestrelFactory()
    {
        Settings["Portal:Url"] = $"http://127.0.0.1:{_port}/patient";
        Settings["Sms:IncludePassword"] = "true";
        Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    public string Address
    {
        get
        {
            if (_address is not null) return _address;
            UseKestrel(_port);
            StartServer();
            _address = $"http://127.0.0.1:{_port}";
            Wave.WebhookTarget = _address + "/api/payments/wave/webhook/";
            return _address;
        }
    }
}

/// <summary>
/// Done when: a patient pays a 25 000 FCFA invoice from the link in their SMS, on a 360×640 phone, and
/// receives their credentials without anyone touching the desk. The fake Wave's launch page pays, sends the signed
/// webhook, and sends the phone to the success page.
/// </summary>
public class WaveBrowserTests(WaveKestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    : IClassFixture<WaveKestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly JourneyScreens _screens = new(output.WriteLine);

    private string SmsTo(string phone, string contains) => Directory.GetFiles(Path.Combine(factory.DataDir, "sms-pickup"))
        .Select(File.ReadAllText).Single(t => t.StartsWith($"To: {phone}", StringComparison.Ordinal) && t.Contains(contains, StringComparison.Ordinal));

    [ChromiumFact]
    public async Task A_patient_pays_from_the_sms_link_and_gets_the_credentials_by_sms()
    {
        var address = factory.Address;
        var p = await factory.Data.PatientAsync("Mariama Sarr", status: InvoiceStatus.Draft, total: 25000);
        // The secretary's « Envoyer un lien de paiement Wave », then the outbox sends the SMS.
        var link = await factory.WithScopeAsync(async sp =>
        {
            var links = sp.GetRequiredService<PaymentLinks>();
            var staff = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
                [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, "secretariat@cimef.sn")], "test"));
            return await links.CreateAsync(p.InvoiceId, links.Provider("wave")!, staff, textPatient: true);
        });
        Assert.True(link.Ok, link.Error);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessDueAsync());
        var sms = SmsTo(p.Phone, "Wave");
        var url = sms.Split(' ', '\n').Single(w => w.StartsWith("http", StringComparison.Ordinal));
        // The portal's own link, which sends the phone on to Wave while the invoice still waits for this payment.
        Assert.Equal($"{address}/paiement/wave/{link.Checkout!.CheckoutId}", url);

        await using var context = await chromium.PhoneContextAsync(address);
        var page = await context.NewPageAsync();
        await _screens.StepAsync("14-wave-paid-phone", page, async () =>
        {
            await page.GotoAsync(url);
            await page.WaitForPageAsync("**/paiement/wave/succes");
            await Assertions.Expect(page.Locator("h1")).ToHaveTextAsync("Paiement reçu");
            await Assertions.Expect(page.Locator("#wave-success")).ToContainTextAsync("identifiants d'accès à vos résultats arrivent par SMS");
            Assert.DoesNotContain("Mariama", await page.ContentAsync());
        });

        var payment = await factory.WithDbAsync(db => db.Payments.AsNoTracking().SingleAsync(x => x.InvoiceId == p.InvoiceId));
        Assert.Equal((PaymentMethod.Wave, 25000, link.Checkout.CheckoutId), (payment.Method, payment.Amount, payment.Reference));
        Assert.Equal(InvoiceStatus.Paid, await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == p.InvoiceId).Select(i => i.Status).SingleAsync()));

        // Nobody at the desk: the outbox sends the credentials, and they open the portal.
        await factory.WithScopeAsync(sp => sp.GetRequiredService<OutboxProcessor>().ProcessDueAsync());
        var accessId = await factory.WithDbAsync(db => db.Invoices.Where(i => i.Id == p.InvoiceId).Select(i => i.PatientAccessId!.Value).SingleAsync());
        var (key, password) = await factory.Data.CredentialsAsync(accessId);
        var credentials = SmsTo(p.Phone, "Clé:");
        Assert.Contains(password, credentials);
        await _screens.StepAsync("14-wave-dashboard-phone", page, async () =>
        {
            await PortalBudget.LoginAsync(page, p with { Key = key, Password = password });
            await Assertions.Expect(page.Locator("h1")).ToBeVisibleAsync();
        });
    }
}
