using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// The whole journey through the real UI in Debian's Chromium over real Kestrel: admin creates the
/// staff; secretary registers a patient and invoices them; accountant records the payment; the invoice PDF's key and
/// password are read back with PdfPig; doctor uploads the report; the patient logs in on a phone and downloads the same
/// bytes; a second invoice carries the same credentials; admin deactivates the access and the open session is refused.
/// Every step leaves a screenshot (see <see cref="JourneyScreens"/>).
/// </summary>
public class JourneyTests : IClassFixture<KestrelFactory>, IClassFixture<ChromiumFixture>
{
    private const string StaffPassword = "Parcours-2026-ok";
    private const string PatientName = "Aminata Diop";
    private const string ReportTitle = "IRM du genou droit — compte rendu";

    private readonly KestrelFactory _factory;
    private readonly ChromiumFixture _chromium;
    private readonly JourneyScreens _screens;

    public JourneyTests(KestrelFactory factory, ChromiumFixture chromium, ITestOutputHelper output)
    {
        _factory = factory;
        _chromium = chromium;
        _screens = new JourneyScreens(output.WriteLine);
        factory.Settings["Portal:LoginRequestsPerMinutePerIp"] = "100000";
        factory.Settings["Portal:MaxLoginFailuresPerIp"] = "100000";
    }

    [ChromiumFact]
    public async Task Admin_staff_patient_invoice_payment_report_phone_download_second_invoice_deactivation()
    {
        _screens.Reset();
        var address = _factory.Address;
        await _factory.CreateStaffAsync("admin@cimef.test", Roles.Admin); // the CLI/config bootstrap path

        // 1. The admin creates the secretary, the accountant and the doctor through the /Staff form.
        await using var admin = await StaffContextAsync(address);
        var adminPage = await admin.NewPageAsync();
        await _screens.StepAsync("01-admin-staff", adminPage, async () =>
        {
            await SignInAsync(adminPage, "admin@cimef.test", CimefFactory.StaffPassword);
            foreach (var (name, email, role) in new[]
            {
                ("Fatou Secrétaire", "secretaire@cimef.test", Roles.Secretary),
                ("Moussa Comptable", "comptable@cimef.test", Roles.Accountant),
                ("Dr Awa Ndiaye", "medecin@cimef.test", Roles.Doctor),
            })
            {
                await adminPage.GotoAsync("/Staff");
                await adminPage.GetByLabel("Nom complet").FillAsync(name);
                await adminPage.GetByLabel("Adresse e-mail").FillAsync(email);
                await adminPage.GetByLabel("Rôle").SelectOptionAsync(role);
                await adminPage.GetByLabel("Mot de passe initial").FillAsync(StaffPassword);
                await adminPage.GetByRole(AriaRole.Button, new() { Name = "Créer le compte" }).ClickAsync();
                await Expect(adminPage.Locator(".status"), $"Compte créé pour {name}.");
            }
            var table = await adminPage.Locator("table").InnerTextAsync();
            foreach (var who in new[] { "Fatou Secrétaire", "Moussa Comptable", "Dr Awa Ndiaye" }) Assert.Contains(who, table);
        });

        // 2. The secretary registers the patient (with an e-mail), opens an invoice, adds an exam line and sends it.
        await using var secretary = await StaffContextAsync(address);
        var secretaryPage = await secretary.NewPageAsync();
        var patientId = 0;
        await _screens.StepAsync("02-secretary-patient", secretaryPage, async () =>
        {
            await SignInAsync(secretaryPage, "secretaire@cimef.test", StaffPassword);
            await secretaryPage.GotoAsync("/Patients/Create");
            await secretaryPage.GetByLabel("Nom complet").FillAsync(PatientName);
            await secretaryPage.GetByLabel("Téléphone").FillAsync("77 412 33 08");
            await secretaryPage.GetByLabel("E-mail (facultatif)").FillAsync("aminata.diop@example.sn");
            await secretaryPage.GetByRole(AriaRole.Button, new() { Name = "Enregistrer" }).ClickAsync();
            await secretaryPage.WaitForPageAsync(new Regex(@"/Patients/Details/\d+$"));
            patientId = int.Parse(secretaryPage.Url[(secretaryPage.Url.LastIndexOf('/') + 1)..]);
            Assert.Contains(PatientName, await secretaryPage.Locator("h1").InnerTextAsync());
        });

        var invoiceId = 0;
        var invoiceNumber = "";
        await _screens.StepAsync("03-secretary-invoice", secretaryPage, async () =>
        {
            (invoiceId, invoiceNumber) = await CreateDraftAsync(secretaryPage, patientId);
            await secretaryPage.GetByLabel("Examen", new() { Exact = true }).SelectOptionAsync(new SelectOptionValue { Index = 1 });
            await secretaryPage.GetByRole(AriaRole.Button, new() { Name = "Ajouter la ligne" }).ClickAsync();
            await secretaryPage.Locator("#lines tbody tr td.num").First.WaitForAsync();
            Assert.Equal("1", await secretaryPage.Locator("#lines tbody tr td.num").First.InnerTextAsync());
            Assert.NotEqual("0 FCFA", await secretaryPage.Locator("#invoice-total").InnerTextAsync());
            await SendAsync(secretaryPage);
        });

        // 3. The accountant records the full payment: the invoice is paid.
        await using var accountant = await StaffContextAsync(address);
        var accountantPage = await accountant.NewPageAsync();
        await _screens.StepAsync("04-accountant-payment", accountantPage, async () =>
        {
            await SignInAsync(accountantPage, "comptable@cimef.test", StaffPassword);
            await accountantPage.GotoAsync($"/Billing/Pay/{invoiceId}");
            await accountantPage.GetByLabel("Mode de paiement").SelectOptionAsync(nameof(PaymentMethod.Cash));
            await accountantPage.GetByRole(AriaRole.Button, new() { Name = "Enregistrer le paiement" }).ClickAsync();
            await accountantPage.WaitForPageAsync($"**/Billing/Details/{invoiceId}");
            Assert.Contains($"facture {invoiceNumber} payée", await accountantPage.Locator(".status").InnerTextAsync());
            Assert.Equal("Payée", (await accountantPage.Locator(".badge").First.InnerTextAsync()).Trim());
        });

        // 4. The invoice PDF, downloaded through the page's link, carries the key and the password.
        var (key, password) = ("", "");
        await _screens.StepAsync("04-accountant-pdf", accountantPage, async () =>
        {
            (key, password) = await DownloadCredentialsAsync(accountantPage);
            Assert.Matches(@"^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$", key);
            Assert.Matches("^[a-z0-9]{8}$", password);
            Assert.Contains(key[^4..], await accountantPage.Locator("main").InnerTextAsync()); // the page shows the key's suffix only
            Assert.DoesNotContain(password, await accountantPage.ContentAsync());
        }, screenshot: false);

        // 5. The doctor uploads the report; the keys are cross-validated with the paid invoice.
        var reportBytes = Cimef.Site.Cli.DemoSeed.MinimalPdf($"Compte rendu IRM {Guid.NewGuid():N}");
        await using var doctor = await StaffContextAsync(address);
        var doctorPage = await doctor.NewPageAsync();
        await _screens.StepAsync("05-doctor-report", doctorPage, async () =>
        {
            await SignInAsync(doctorPage, "medecin@cimef.test", StaffPassword);
            await doctorPage.GotoAsync("/Reports");
            await doctorPage.GetByLabel("Rechercher un patient").FillAsync("Aminata");
            await doctorPage.GetByRole(AriaRole.Button, new() { Name = "Rechercher" }).ClickAsync();
            await doctorPage.WaitForPageAsync("**/Reports?q=Aminata");
            await doctorPage.GetByRole(AriaRole.Link, new() { Name = PatientName }).ClickAsync();
            await doctorPage.WaitForPageAsync($"**/Reports?patientId={patientId}");
            await doctorPage.GetByLabel("Facture / examen").SelectOptionAsync(invoiceId.ToString());
            await Expect(doctorPage.Locator("#validation"), $"Clés validées avec facture {invoiceNumber}");
            await doctorPage.GetByLabel("Titre").FillAsync(ReportTitle);
            await doctorPage.Locator("#files").SetInputFilesAsync(new FilePayload
            {
                Name = "irm-genou.pdf", MimeType = "application/pdf", Buffer = reportBytes,
            });
            await doctorPage.GetByRole(AriaRole.Button, new() { Name = "Envoyer" }).ClickAsync();
            await Expect(doctorPage.Locator("#upload-results .status-ok"), $"irm-genou.pdf : Clés validées avec facture {invoiceNumber}");
            await Expect(doctorPage.Locator("#reports"), ReportTitle);
        });

        // 6. The patient, on a phone, logs in with the credentials read from the PDF and downloads the same bytes.
        await using var phone = await _chromium.PhoneContextAsync(address);
        var patientPage = await phone.NewPageAsync();
        await _screens.StepAsync("06-patient-login-phone", patientPage, async () =>
        {
            await patientPage.GotoAsync("/patient");
            await patientPage.GetByLabel("Clé d'accès (12 caractères)").FillAsync(key.ToLowerInvariant());
            await patientPage.GetByLabel("Mot de passe (8 caractères)").FillAsync(password);
        });
        await _screens.StepAsync("06-patient-dashboard-phone", patientPage, async () =>
        {
            await patientPage.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
            await patientPage.WaitForPageAsync("**/patient/dashboard");
            Assert.Contains(PatientName, await patientPage.Locator("h1").InnerTextAsync());
            Assert.Contains(ReportTitle, await patientPage.Locator("#reports").InnerTextAsync());
        });
        await _screens.StepAsync("06-patient-download-phone", patientPage, async () =>
        {
            var download = await patientPage.RunAndWaitForDownloadAsync(() =>
                patientPage.GetByRole(AriaRole.Link, new() { Name = "Télécharger " + ReportTitle }).ClickAsync());
            var downloaded = await File.ReadAllBytesAsync(await download.PathAsync());
            Assert.Equal(Convert.ToHexString(SHA256.HashData(reportBytes)), Convert.ToHexString(SHA256.HashData(downloaded)));
        }, screenshot: false);

        // 7. A second invoice for the same patient carries the same key and password.
        await _screens.StepAsync("07-second-invoice", secretaryPage, async () =>
        {
            var (secondId, secondNumber) = await CreateDraftAsync(secretaryPage, patientId, firstExam: true);
            Assert.NotEqual(invoiceId, secondId);
            Assert.NotEqual(invoiceNumber, secondNumber);
            await SendAsync(secretaryPage);
            var (key2, password2) = await DownloadCredentialsAsync(secretaryPage);
            Assert.Equal(key, key2);
            Assert.Equal(password, password2);
        });

        // 8. The admin deactivates the access; the patient's open page is refused on its next navigation.
        await _screens.StepAsync("08-admin-access-deactivated", adminPage, async () =>
        {
            await adminPage.GotoAsync("/Access");
            await adminPage.GetByRole(AriaRole.Link, new() { Name = PatientName }).ClickAsync();
            await adminPage.WaitForPageAsync(new Regex(@"/Access/Details/\d+$"));
            adminPage.Dialog += AcceptDialog;
            await adminPage.GetByRole(AriaRole.Button, new() { Name = "Désactiver", Exact = true }).ClickAsync();
            await Expect(adminPage.Locator(".cards .badge"), "Inactif");
        });
        await _screens.StepAsync("08-patient-refused-phone", patientPage, async () =>
        {
            // The still-open dashboard: its "Actualiser" (htmx) request is refused and the browser lands on the login page.
            Assert.EndsWith("/patient/dashboard", patientPage.Url);
            await patientPage.GetByRole(AriaRole.Link, new() { Name = "Actualiser" }).ClickAsync();
            await patientPage.WaitForPageAsync(url => new Uri(url).AbsolutePath == "/patient");
            await patientPage.GetByLabel("Clé d'accès (12 caractères)").WaitForAsync();
            // A plain reload of the dashboard is refused too.
            await patientPage.GotoAsync("/patient/dashboard");
            Assert.Equal("/patient", new Uri(patientPage.Url).AbsolutePath);
            // And the same credentials no longer open a session: the French refusal is shown.
            await patientPage.GetByLabel("Clé d'accès (12 caractères)").FillAsync(key);
            await patientPage.GetByLabel("Mot de passe (8 caractères)").FillAsync(password);
            await patientPage.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
            await Expect(patientPage.GetByRole(AriaRole.Alert), "Votre accès a été désactivé.");
            Assert.Equal("/patient", new Uri(patientPage.Url).AbsolutePath);
        });
    }

    private static void AcceptDialog(object? sender, IDialog dialog) => _ = dialog.AcceptAsync();

    private async Task<IBrowserContext> StaffContextAsync(string address)
    {
        var context = await _chromium.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = address,
            ViewportSize = new ViewportSize { Width = 1200, Height = 800 },
            AcceptDownloads = true,
            Locale = "fr-SN",
        });
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(30_000);
        return context;
    }

    private static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/Account/SignIn");
        await page.GetByLabel("Adresse e-mail").FillAsync(email);
        await page.GetByLabel("Mot de passe").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        // The outcome, not a lifecycle event: the staff home greets the user (see PageWaits).
        await page.WaitForPageAsync(url => !url.Contains("/Account/SignIn"));
        await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Bonjour", new() { Timeout = 30_000 });
    }

    /// <summary>From the patient's page, "Nouvelle facture" → /Billing/Create (optionally with the catalogue's first exam); returns the draft's id and number.</summary>
    private static async Task<(int Id, string Number)> CreateDraftAsync(IPage page, int patientId, bool firstExam = false)
    {
        await page.GotoAsync($"/Patients/Details/{patientId}");
        await page.GetByRole(AriaRole.Link, new() { Name = "Nouvelle facture" }).ClickAsync();
        await page.WaitForPageAsync($"**/Billing/Create?patientId={patientId}");
        Assert.Contains(PatientName, await page.Locator("main").InnerTextAsync());
        if (firstExam) await page.Locator("#Input_ExamCode").SelectOptionAsync(new SelectOptionValue { Index = 1 });
        await page.GetByRole(AriaRole.Button, new() { Name = "Créer le brouillon" }).ClickAsync();
        await page.WaitForPageAsync(new Regex(@"/Billing/Details/\d+$"));
        var id = int.Parse(page.Url[(page.Url.LastIndexOf('/') + 1)..]);
        var number = (await page.Locator("h1").InnerTextAsync()).Replace("Facture ", "").Trim();
        Assert.Matches(@"^FAC-\d{4}-\d+$", number);
        return (id, number);
    }

    private static async Task SendAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Émettre la facture" }).ClickAsync();
        await Expect(page.Locator(".status"), "Facture émise : l'accès aux résultats du patient est prêt.");
        Assert.StartsWith("Émise", (await page.Locator(".badge").First.InnerTextAsync()).Trim());
    }

    /// <summary>Clicks "Télécharger le PDF" and reads the access box of the downloaded file with PdfPig.</summary>
    private static async Task<(string Key, string Password)> DownloadCredentialsAsync(IPage page)
    {
        var download = await page.RunAndWaitForDownloadAsync(() =>
            page.GetByRole(AriaRole.Link, new() { Name = "Télécharger le PDF" }).ClickAsync());
        Assert.Matches(@"^FAC-\d{4}-\d+\.pdf$", download.SuggestedFilename);
        var bytes = await File.ReadAllBytesAsync(await download.PathAsync());
        return InvoiceCredentials.Read(bytes);
    }

    /// <summary>Waits (up to the context timeout) until the element's text contains the expected text.</summary>
    private static async Task Expect(ILocator locator, string text)
    {
        await locator.Filter(new() { HasText = text }).First.WaitForAsync();
        Assert.Contains(text, await locator.Filter(new() { HasText = text }).First.InnerTextAsync());
    }
}
