using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Tests.Invoicing;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.FrontDesk;

public class PhonesTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Theory]
    [InlineData("77 123 45 67", "+221771234567")]
    [InlineData("+221 78 000 11 22", "+221780001122")]
    [InlineData("00221 70 345 67 89", "+221703456789")]
    [InlineData("33 800 00 00", "+221338000000")]
    [InlineData("+33 6 12 34 56 78", "+33612345678")]
    public void Valid_numbers_are_kept_in_E164(string input, string e164) => Assert.Equal(e164, Phones.Normalize(input));

    [Theory]
    [InlineData("12 345 67 89")] // 9 digits, but no Senegalese number starts with 12
    [InlineData("77 123 45")]
    [InlineData("+221 77 123 45 678")]
    [InlineData("+33 1")]
    [InlineData("77 abc 45 67")]
    [InlineData("")]
    public void Unassigned_or_malformed_numbers_are_refused(string input) => Assert.Null(Phones.Normalize(input));

    [Fact]
    public void A_fixed_line_is_told_apart_from_a_mobile()
    {
        Assert.True(Phones.CanReceiveSms("+221771234567"));
        Assert.False(Phones.CanReceiveSms("+221338000000"));
        Assert.Equal("+221 77 123 45 67", Phones.Display("+221771234567"));
    }

    [Fact]
    public async Task The_patient_form_refuses_an_unassigned_prefix_and_warns_that_a_fixed_line_gets_no_sms()
    {
        var client = await factory.StaffClientAsync(Roles.Secretary);
        var refused = await client.PostFormAsync("/Patients/Create", Form("Awa Préfixe", "12 345 67 89"));
        Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
        Assert.Contains("Numéro de téléphone invalide", await refused.HtmlAsync());
        Assert.False(await factory.WithDbAsync(db => db.Patients.AnyAsync(p => p.FullName == "Awa Préfixe")));

        var created = await client.PostFormAsync("/Patients/Create", Form("Ibou Fixe", "33 821 00 00"));
        Assert.Equal(HttpStatusCode.Redirect, created.StatusCode);
        var details = await (await client.GetAsync(created.Headers.Location!.OriginalString)).HtmlAsync();
        Assert.Contains("ligne fixe : les SMS ne l'atteindront pas", details);

        // Sending an invoice queues the e-mail only: an SMS to a fixed line would be lost silently.
        var id = await factory.WithDbAsync(db => db.Patients.Where(p => p.FullName == "Ibou Fixe").Select(p => p.Id).SingleAsync());
        await factory.WithDbAsync(async db => { var p = await db.Patients.SingleAsync(x => x.Id == id); p.Email = "ibou@example.sn"; await db.SaveChangesAsync(); return 0; });
        var invoice = (await client.CreateInvoiceAsync(id, ("ECHO-ABD", 1))).GetProperty("id").GetInt32();
        await client.SendInvoiceAsync(invoice);
        var channels = await factory.WithDbAsync(db => db.OutboxMessages.Where(m => m.PatientId == id).Select(m => m.Channel).ToListAsync());
        Assert.Equal([OutboxChannel.Email], channels);
    }

    private static Dictionary<string, string> Form(string name, string phone) =>
        new() { ["Input.FullName"] = name, ["Input.Phone"] = phone, ["Input.Email"] = "", ["Input.DateOfBirth"] = "" };
}
