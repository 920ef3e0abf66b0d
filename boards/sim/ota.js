// The desktop simulator has no OTA partition: firmware/dashboard/board_moddable.ts reports
// the upload as refused ("no OTA partition").
export default class OTA {
	constructor() {
		throw new Error("no OTA partition on the simulator");
	}
}
