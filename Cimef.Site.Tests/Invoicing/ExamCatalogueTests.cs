using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Invoicing;

public class ExamCatalogueTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task Admin_adds_edits_and_deactivates_an_exam_and_it_leaves_the_api_catalogue()
    {
        var admin = await factory.StaffClientAsync(Roles.Admin);
        var list = await (await admin.GetAsync("/Billing/Exams")).HtmlAsync();
        Assert.Contains("Scanner cérébral", list);
        Assert.Contains("75 000 FCFA", list);

        var bad = await admin.PostFormAsync("/Billing/Exams", new() { ["Input.Code"] = "RX-THO", ["Input.Name"] = "", ["Input.Modality"] = "Radiographie", ["Input.Price"] = "-5" });
        var html = await bad.HtmlAsync();
        Assert.Equal(HttpStatusCode.OK, bad.StatusCode);
        Assert.Contains("Le libellé est obligatoire.", html);
        Assert.Contains("Le prix doit être un nombre entier", html);

        var dup = await admin.PostFormAsync("/Billing/Exams", new() { ["Input.Code"] = "rx-tho", ["Input.Name"] = "Doublon", ["Input.Modality"] = "Radiographie", ["Input.Price"] = "1000" });
        Assert.Contains("existe déjà", await dup.HtmlAsync());

        var ok = await admin.PostFormAsync("/Billing/Exams", new() { ["Input.Code"] = "echo-cou", ["Input.Name"] = "Échographie cervicale", ["Input.Modality"] = "Échographie", ["Input.Price"] = "25000" });
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var exam = await factory.WithDbAsync(db => db.Exams.SingleAsync(e => e.Code == "ECHO-COU"));

        var edit = await admin.PostFormAsync($"/Billing/Exams/Edit/{exam.Id}", new() { ["Input.Code"] = "ECHO-COU", ["Input.Name"] = "Échographie cervicale", ["Input.Modality"] = "Échographie", ["Input.Price"] = "27000" });
        Assert.Equal(HttpStatusCode.Redirect, edit.StatusCode);
        Assert.Equal(27000, await factory.WithDbAsync(db => db.Exams.Where(e => e.Id == exam.Id).Select(e => e.Price).SingleAsync()));

        var off = await admin.PostFormAsync($"/Billing/Exams?handler=Toggle&id={exam.Id}", new(), tokenPage: "/Billing/Exams");
        Assert.Equal(HttpStatusCode.Redirect, off.StatusCode);
        var api = await (await admin.GetAsync("/api/exams/")).JsonAsync();
        Assert.DoesNotContain(api.EnumerateArray(), e => e.GetProperty("code").GetString() == "ECHO-COU");
        foreach (var action in new[] { "exam.create", "exam.update", "exam.deactivate" })
            Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == action && a.EntityId == exam.Id.ToString())), action);

        var patient = await admin.CreatePatientAsync("Examen Retiré");
        var refused = await admin.PostJsonAsync("/api/invoices/", new { patient_id = patient, lines = new[] { new { exam_code = "ECHO-COU", quantity = 1 } } });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task Only_admins_edit_the_catalogue()
    {
        var secretary = await factory.StaffClientAsync(Roles.Secretary);
        var r = await secretary.GetAsync("/Billing/Exams");
        Assert.Equal(HttpStatusCode.Redirect, r.StatusCode);
        Assert.StartsWith("/Account/Denied", r.Headers.Location!.PathAndQuery);
    }
}
