using System.Net;
using Cimef.Site.Data.Entities;
using Cimef.Site.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Tests.Notifications;

public class NotificationsPageTests(CimefFactory factory) : IClassFixture<CimefFactory>
{
    [Fact]
    public async Task Staff_see_the_delivery_status_per_patient_as_a_page_or_an_htmx_fragment()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: "khady@example.sn", phone: "+221779990000");
        await factory.ProcessOutboxAsync();
        var secretary = await factory.StaffClientAsync(Roles.Secretary);

        var page = WebUtility.HtmlDecode(await secretary.GetStringAsync($"/Patients/Notifications/{s.PatientId}"));
        Assert.Contains("<html", page);
        Assert.Contains("khady@example.sn", page);
        Assert.Contains("Envoyé", page);

        var fragment = await secretary.HtmxGetAsync($"/Patients/Notifications/{s.PatientId}");
        var html = await fragment.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, fragment.StatusCode);
        Assert.DoesNotContain("<html", html);
        Assert.Contains("id=\"patient-notifications\"", html);
        Assert.Contains("HX-Request", fragment.Headers.Vary);
        Assert.Equal(HttpStatusCode.NotFound, (await secretary.GetAsync("/Patients/Notifications/999999")).StatusCode);
    }

    [Fact]
    public async Task Renvoyer_requeues_the_message_and_is_audited()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid, email: "aliou@example.sn", phone: "");
        await factory.ProcessOutboxAsync();
        var sent = Assert.Single(await factory.OutboxOfAsync(s.PatientId));
        var secretary = await factory.StaffClientAsync(Roles.Secretary);

        var response = await secretary.PostFormAsync($"/Patients/Notifications/{s.PatientId}?handler=Resend&messageId={sent.Id}", new(),
            tokenPage: $"/Patients/Notifications/{s.PatientId}");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var all = await factory.OutboxOfAsync(s.PatientId);
        Assert.Equal(2, all.Count);
        Assert.Equal((OutboxStatus.Pending, "aliou@example.sn", OutboxKind.Credentials), (all[1].Status, all[1].Recipient, all[1].Kind));
        Assert.True(await factory.WithDbAsync(db => db.AuditEntries.AnyAsync(a => a.Action == "notification.resend" && a.EntityId == sent.Id.ToString())));
        await factory.ProcessOutboxAsync();
        Assert.All(await factory.OutboxOfAsync(s.PatientId), m => Assert.Equal(OutboxStatus.Sent, m.Status));
    }

    [Fact]
    public async Task Doctors_cannot_resend_notifications()
    {
        var s = await factory.Data.PatientAsync(status: InvoiceStatus.Paid);
        var doctor = await factory.StaffClientAsync(Roles.Doctor);
        var response = await doctor.GetAsync($"/Patients/Notifications/{s.PatientId}");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/Account/Denied", response.Headers.Location!.PathAndQuery);
    }
}
