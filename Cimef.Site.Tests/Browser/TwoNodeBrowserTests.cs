using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Cluster;
using Cimef.Site.Tests.Data;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Cimef.Site.Tests.Browser;

/// <summary>
/// The browser journey served alternately by two nodes (<see cref="ClusterFixture"/>: one PostgreSQL database, one S3
/// bucket), as a load balancer without sticky sessions would: both nodes are on 127.0.0.1, so the browser sends the
/// same cookies to either port. Real Chromium (Debian's), PostgreSQL pass only.
/// </summary>
public class TwoNodeBrowserTests(ClusterFixture cluster, ChromiumFixture chromium) : IClassFixture<ClusterFixture>, IClassFixture<ChromiumFixture>
{
    private string A(string path) => cluster.Node(0).Address + path;
    private string B(string path) => cluster.Node(1).Address + path;

    [PostgresFact]
    public async Task Staff_and_patient_pages_switch_nodes_at_every_step_with_nothing_lost()
    {
        await cluster.StartAsync(0);
        await cluster.StartAsync(1);
        var p = await cluster.Seeder.Data.PatientAsync(status: InvoiceStatus.Paid);
        var pdf = Reports.ReportTestData.PdfBytes.Concat(System.Text.Encoding.ASCII.GetBytes(Guid.NewGuid().ToString())).ToArray();
        await cluster.Seeder.Data.ReportAsync(p, "IRM du genou", pdf);
        var email = $"secretaire-{Guid.NewGuid():N}@cimef.test";
        await cluster.Seeder.CreateStaffAsync(email, Roles.Secretary);

        // Staff: signed in on B, the patient's page on A.
        await using var staff = await chromium.PhoneContextAsync(cluster.Node(1).Address);
        var desk = await staff.NewPageAsync();
        await desk.GotoAsync(B("/Account/SignIn"));
        await desk.GetByLabel("Adresse e-mail").FillAsync(email);
        await desk.GetByLabel("Mot de passe").FillAsync(CimefFactory.StaffPassword);
        await desk.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await desk.WaitForPageAsync(url => !url.Contains("/Account/SignIn"));
        await desk.GotoAsync(A($"/Patients/Details/{p.PatientId}"));
        Assert.StartsWith(A("/Patients/Details/"), desk.Url);
        Assert.Contains(p.FullName, await desk.ContentAsync());

        // Patient: login form from A, dashboard from B, download from A, logout on B, A then asks for the login again.
        await using var phone = await chromium.PhoneContextAsync(cluster.Node(0).Address);
        var page = await phone.NewPageAsync();
        await page.GotoAsync(A("/patient"));
        await page.GetByLabel("Clé d'accès (12 caractères)").FillAsync(p.Key);
        await page.GetByLabel("Mot de passe (8 caractères)").FillAsync(p.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Se connecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient/dashboard");
        await page.GotoAsync(B("/patient/dashboard"));
        Assert.Equal(B("/patient/dashboard"), page.Url);
        Assert.Contains(p.FullName, await page.Locator("h1").TextContentAsync());

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Télécharger IRM du genou" }).ClickAsync());
        var saved = Path.Combine(cluster.NodeDir(0), Guid.NewGuid().ToString("N") + ".download");
        await download.SaveAsAsync(saved);
        Assert.Equal(pdf, await File.ReadAllBytesAsync(saved));
        File.Delete(saved);

        await page.GotoAsync(A("/patient/dashboard"));
        Assert.Contains("téléchargé 1 fois", await page.ContentAsync());
        await page.GotoAsync(B("/patient/dashboard"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Se déconnecter" }).ClickAsync();
        await page.WaitForPageAsync("**/patient");
        await page.GotoAsync(A("/patient/dashboard"));
        Assert.Equal(A("/patient"), page.Url);
    }
}
