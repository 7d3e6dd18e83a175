using System.Text.RegularExpressions;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// On a 360×640 phone in Chromium over real Kestrel: the patient shares a report, the doctor opens the link in
/// another browser context with the code and downloads it, the patient revokes, the doctor's link fails. Screenshots
/// of each step go to the README (« Partager avec son médecin »).
/// </summary>
public class ShareBrowserTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public ShareBrowserTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
    }

    [ChromiumFact]
    public async Task Patient_shares_doctor_opens_with_code_and_downloads_patient_revokes_link_fails()
    {
        var address = _factory.Address;
        var p = await _factory.Data.PatientAsync("Aminata Diop");
        var bytes = Cimef.Site.Cli.DemoSeed.MinimalPdf("Compte rendu partage");
        await _factory.Data.ReportAsync(p, "IRM du genou droit", content: bytes);

        await using var phone = await _chromium.PhoneContextAsync(address);
        var patient = await phone.NewPageAsync();
        var (path, code) = ("", "");
        await _screens.StepAsync("09-share-choose-duration", patient, async () =>
        {
            await PortalBudget.LoginAsync(patient, p);
            await patient.GetByRole(AriaRole.Link, new() { Name = "Partager avec mon médecin IRM du genou droit" }).ClickAsync();
            await patient.WaitForPageAsync(new Regex(@"/patient/shares\?report=\d+$"));
            await patient.GetByLabel("30 jours").CheckAsync();
        });
        await _screens.StepAsync("10-share-link-and-code", patient, async () =>
        {
            await patient.GetByRole(AriaRole.Button, new() { Name = "Créer le lien et le code" }).ClickAsync();
            await patient.Locator("#share-code").WaitForAsync();
            path = new Uri(await patient.Locator("#share-link").InnerTextAsync()).AbsolutePath;
            code = await patient.Locator("#share-code").InnerTextAsync();
            Assert.Matches("^/s/[A-Za-z0-9_-]{22}$", path);
            Assert.Matches("^[0-9]{6}$", code);
            var wa = await patient.GetByRole(AriaRole.Link, new() { Name = "Envoyer le lien par WhatsApp" }).GetAttributeAsync("href");
            Assert.StartsWith("https://wa.me/?text=", wa);
            Assert.DoesNotContain(code, Uri.UnescapeDataString(wa!));
        });

        await using var doctorContext = await _chromium.PhoneContextAsync(address);
        var doctor = await doctorContext.NewPageAsync();
        await _screens.StepAsync("11-doctor-code", doctor, async () =>
        {
            await doctor.GotoAsync(path);
            await doctor.GetByLabel("Code").FillAsync(code);
        });
        await _screens.StepAsync("12-doctor-report", doctor, async () =>
        {
            await doctor.GetByRole(AriaRole.Button, new() { Name = "Ouvrir le résultat" }).ClickAsync();
            await doctor.Locator("#share-download").WaitForAsync();
            Assert.Contains("IRM du genou droit", await doctor.Locator("main").InnerTextAsync());
            var download = await doctor.RunAndWaitForDownloadAsync(() => doctor.Locator("#share-download").ClickAsync());
            Assert.Equal(bytes, await File.ReadAllBytesAsync((await download.PathAsync())!));
        });

        await _screens.StepAsync("13-patient-revoked", patient, async () =>
        {
            await patient.GotoAsync("/patient/shares");
            await patient.GetByRole(AriaRole.Button, new() { Name = "Révoquer le partage de IRM du genou droit" }).ClickAsync();
            await patient.GetByText("Le partage est révoqué").WaitForAsync();
            Assert.Contains("Aucun partage actif", await patient.Locator("#shares").InnerTextAsync());
        });
        await _screens.StepAsync("14-doctor-link-fails", doctor, async () =>
        {
            var response = await doctor.GotoAsync(path);
            Assert.Equal(404, response!.Status);
            Assert.Contains("Ce lien de partage n'est plus valide", await doctor.Locator("main").InnerTextAsync());
        });
    }
}
